"""promtool and amtool for the tests of rules, dashboards and Alertmanager routes.

`make test` unpacks them from Debian's prometheus and prometheus-alertmanager packages into
.tools/prometheus/bin (the Makefile's `tools` target); they are looked up there first, then
on PATH.
A missing tool fails the test that needs it, with how to install it: nothing is skipped.
Each test hands a tool all of its files in one call, so the suite starts few processes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from offline.stack_config import ROOT

TOOLS_BIN = ROOT / ".tools" / "prometheus" / "bin"
INSTALL = (
    "run `make tools` (it unpacks promtool and amtool from Debian's prometheus and prometheus-alertmanager "
    "packages into .tools/prometheus/bin), or put them on PATH"
)


def tool(name: str) -> str:
    local = TOOLS_BIN / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL}", pytrace=False)
    return found


def run(name: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(name), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Several tool invocations in one process start (`amtool config routes test` takes one
    label set per call)."""
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)
