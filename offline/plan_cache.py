"""Plans kept on disk, so that many processes (the test suite's workers) plan each stack once.

An entry is keyed by everything that can change a plan: the arguments of `run_plan` (stack,
replaced stack file, overrides), the bytes of every file the program reads (`__main__.py`,
the project and stack files, `components/`, `offline/`, `data/`), the installed
distributions and their versions (the SDKs and what they load), the Python version, the
environment variables the program or the CLI read, and today's date (version lifecycles are
dated). A change to any of them is a different key, never a stale plan.

Processes that ask for the same plan at once take a lock on its key: one plans, the others
wait and read what it wrote. Entries are written to a temporary file and renamed into place,
so a reader never sees half of one. Refusals (PlanError) are not kept: a test of a refusal
always runs the program.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT

# Read by the program or by the CLI before it starts the program.
ENVIRONMENT_PREFIXES = ("PULUMI_", "DIGITALOCEAN_", "CLOUDFLARE_", "SPACES_")
# What the program is made of, relative to the project root.
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.*.yaml")
PROGRAM_DIRECTORIES = ("components", "offline", "data")
SUFFIX = ".plan"


def program_paths(root: Path = ROOT) -> list[Path]:
    paths = [path for pattern in PROGRAM_FILES for path in root.glob(pattern)]
    for directory in PROGRAM_DIRECTORIES:
        paths += [path for path in (root / directory).rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    return sorted(set(paths))


def program_digest(root: Path = ROOT) -> str:
    """One digest of the program's files, the installed distributions, Python and the environment."""
    digest = hashlib.sha256()
    for path in program_paths(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    versions = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    environment = sorted((key, value) for key, value in os.environ.items() if key.startswith(ENVIRONMENT_PREFIXES))
    digest.update(json.dumps([versions, sys.version, environment, str(root), datetime.date.today().isoformat()]).encode())
    return digest.hexdigest()


def entry_name(program: str, stack: str, stack_text: str | None, overrides: Mapping[str, Any] | None) -> str:
    arguments = json.dumps([stack, stack_text, overrides or {}], sort_keys=True, default=repr)
    # The program's digest leads, so entries of an older program are told apart by name.
    return f"{program[:16]}-{hashlib.sha256(arguments.encode()).hexdigest()[:32]}{SUFFIX}"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (made if missing), held across processes until the block ends."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> Any | None:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # written by a program whose classes have changed: plan again


def _write(path: Path, value: Any) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(handle.name, path)


class PlanCache:
    """Plans of one program on disk under `directory`; `plan` is `run_plan` (or a stand-in)."""

    def __init__(self, directory: Path, plan: Callable[..., Any], root: Path = ROOT) -> None:
        self.directory = directory
        self._plan = plan
        self._root = root
        self._program: str | None = None

    @property
    def program(self) -> str:
        if self._program is None:
            self._program = program_digest(self._root)
        return self._program

    def get(self, stack: str, stack_text: str | None = None, overrides: Mapping[str, Any] | None = None) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / entry_name(self.program, stack, stack_text, overrides)
        found = _read(path)
        if found is not None:
            return found
        with locked(path.with_suffix(".lock")):
            found = _read(path)  # another process may have planned it while this one waited
            if found is None:
                found = self._plan(stack, stack_text=stack_text, overrides=overrides)
                _write(path, found)
        return found

    def prune(self) -> list[Path]:
        """Remove the entries (and locks) of any other program; run it while no process plans."""
        removed = []
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                if not path.name.startswith(self.program[:16]):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed
