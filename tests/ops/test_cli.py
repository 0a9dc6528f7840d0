"""`python -m ops` as an operator meets it: outside the project's virtualenv it says how to
get one, and `make plan` prints nothing but the plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from offline.stack_config import ROOT


def test_outside_the_virtualenv_ops_says_to_run_make_plan():
    # -S: no site-packages, as a system Python without the project's packages.
    result = subprocess.run(
        [sys.executable, "-S", "-m", "ops", "plan", "--stack", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("ops: the project's Python packages are missing (")
    assert line.endswith("run `make plan` (it builds ./venv), then `venv/bin/python -m ops ...`")


def test_make_plan_prints_only_what_ops_prints(tmp_path: Path):
    # A stand-in for the interpreter that prints what it was asked: the recipe's own
    # output, nothing of make's, must be all of stdout.
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable} -S\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    # A virtualenv of its own that is up to date: the real ./venv is never touched.
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed").touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    result = subprocess.run(
        # UV: any file, so that make does not try to install the installer.
        ["make", "--no-print-directory", "plan", f"VENV={venv}", f"PY={fake}", f"UV={fake}", "STACK=staging", "ARGS=--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["-m", "ops", "plan", "--stack", "staging", "--json"]
