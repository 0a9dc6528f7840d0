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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
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
