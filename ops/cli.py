"""The operator CLI. Each subcommand lives in its own module, imported only when it
runs, so `ops smoke` never pays for importing the cloud SDKs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("ops.review.plan", "offline plan of a stack on the Pulumi mock engine"),
    "diff": ("ops.review.diff", "difference between the offline plans of two revisions"),
    "diagram": ("ops.review.diagram", "Mermaid diagram of a stack"),
    "smoke": ("ops.live.smoke", "smoke tests against a deployed stack"),
    "dev": ("ops.live.dev", "personal dev stacks: up, down, list"),
    "upgrade": ("ops.live.upgrade", "write the next step of a cluster upgrade into a stack file"),
    "drift": ("ops.live.drift", "drift in a `pulumi preview --refresh --json`, the provider's known noise aside"),
    "preflight": ("ops.live.preflight", "before a real preview or up: can this runner reach the clusters?"),
}


# Commands that plan: they import the cloud SDKs (hundreds of thousands of objects) and end
# within seconds. The cyclic garbage collector would spend about a second walking those
# objects and free next to nothing (bench/plan_bench.py shows both), so `python -m ops` runs
# them without it. The others keep it: `ops dev` and `ops smoke --load` may run for minutes.
PLANNING_COMMANDS = frozenset({"plan", "diff", "diagram"})


class Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> Command | None:
    module_name = COMMANDS[name][0]
    try:
        return cast(Command, importlib.import_module(module_name))
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise


# A missing module of one of these is a bug; of anything else, a missing package.
PROJECT_PACKAGES = frozenset({"ops", "offline", "components", "policy", "tests"})


def _missing_package(error: ModuleNotFoundError) -> str | None:
    """The package an import could not find, when it is not one of the project's."""
    top = (error.name or "").split(".")[0]
    return top if top and top not in PROJECT_PACKAGES else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except ModuleNotFoundError as error:
        # Run outside ./venv (`python3 -m ops plan`): say how to get the packages, not a traceback.
        package = _missing_package(error)
        if package is None:
            raise
        from ops.live.prereq import missing_packages

        print(f"ops: {missing_packages([package])}", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ops", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.print_help() if not argv or argv[0] in ("-h", "--help") else parser.parse_args(argv)
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    name = argv[0]
    command = _load(name)
    if command is None:
        print(f"ops {name}: not available in this checkout", file=sys.stderr)
        return 2
    command_parser = argparse.ArgumentParser(prog=f"ops {name}", description=COMMANDS[name][1])
    command.add_arguments(command_parser)
    return command.run(command_parser.parse_args(argv[1:]))
