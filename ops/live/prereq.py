"""What the operator tools need before they can start, checked all at once so that one run
names every missing piece: the Python version, the project's packages (its virtualenv), the
Pulumi CLI, and each credential. Standard library only: it must run where nothing else is
installed yet."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence

MIN_PYTHON = (3, 11)
PULUMI_INSTALL = "https://www.pulumi.com/docs/install/"


def python_problem(version: tuple[int, ...] | None = None) -> str | None:
    version = tuple(sys.version_info[:3]) if version is None else version
    if version >= MIN_PYTHON:
        return None
    shown = ".".join(map(str, version)) if version else platform.python_version()
    wanted = ".".join(map(str, MIN_PYTHON))
    return (
        f"Python {wanted} or newer is needed, this is {shown}: run `make plan PYTHON=python{wanted}`, which builds ./venv with it"
    )


def packages_problem(modules: Sequence[str] = ("pulumi",), find: Callable[[str], object] | None = None) -> str | None:
    """The project's packages are importable: ops runs in ./venv, which `make` builds."""
    find = find or importlib.util.find_spec
    missing = [module for module in modules if find(module) is None]
    return missing_packages(missing) if missing else None


def missing_packages(names: Sequence[str]) -> str:
    return (
        f"the project's Python packages are missing ({', '.join(names)}; this is {sys.executable}): "
        "run `make plan` (it builds ./venv), then `venv/bin/python -m ops ...`"
    )


def cli_problem(which: Callable[[str], str | None] = shutil.which) -> str | None:
    if which("pulumi"):
        return None
    return f"the pulumi CLI is not installed or not on PATH ({PULUMI_INSTALL})"


def credentials_problem(groups: Sequence[Sequence[str]], environ: Mapping[str, str]) -> str | None:
    """Each group is the variables any one of which provides a credential; names only, a
    value (even a wrong one) is never printed."""
    missing = [" or ".join(names) for names in groups if not any(environ.get(name) for name in names)]
    return f"missing credentials: set {', '.join(missing)} in the environment" if missing else None


def collect(*problems: str | None) -> list[str]:
    return [problem for problem in problems if problem]
