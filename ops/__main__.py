import os
import sys

from ops.cli import main

try:
    sys.exit(main())
except BrokenPipeError:
    # The reader (e.g. `| head`) went away: not an error of ours.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)
