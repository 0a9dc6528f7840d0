import gc
import os
import sys

from ops.live.prereq import python_problem

# Before anything else: the modules below need 3.11 and would stop with a traceback.
if python_problem():
    sys.stderr.write(f"ops: {python_problem()}\n")
    sys.exit(2)

from ops.cli import PLANNING_COMMANDS, main

if sys.argv[1:2] and sys.argv[1] in PLANNING_COMMANDS:
    gc.disable()


def _exit(code: int) -> None:
    # The mock engine leaves an asyncio event loop in each of its worker threads; at
    # interpreter shutdown their finalizers run after their sockets are gone and print
    # "Exception ignored ... Invalid file descriptor" tracebacks. Everything the command
    # has to say is written: flush it and leave without running finalizers.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


try:
    _exit(main())
except BrokenPipeError:
    # The reader (e.g. `| head`) went away: not an error of ours.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    _exit(0)
