"""`ops diff` as a command: the base revision planned by its own code in a process of its
own, against a real git history."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from offline.stack_config import ROOT
from ops.cli import main
from ops.review.diff import BasePlan, _json_document
from ops.review.diff_render import render_markdown
from tests.ops.review.diffs import KEY, adding_fra1


def test_the_base_plan_is_read_past_anything_logged_before_it():
    assert _json_document('{"resources": [], "outputs": {}}\n') == ({"resources": [], "outputs": {}}, None)
    assert _json_document('warning: deprecated\n{"resources": []}\n') == ({"resources": []}, None)
    for junk in ("", "Traceback", "[1, 2]", '{"no": "resources"}'):
        assert _json_document(junk)[0] is None


def _commit_all(repo: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    identity = ("-c", "user.name=ops test", "-c", "user.email=ops@example.com", "-c", "commit.gpgsign=false")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "base"), ("rev-parse", "HEAD")):
        done = subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def test_the_base_plan_runs_without_the_collector_and_skips_interpreter_teardown(tmp_path: Path):
    """As `python -m ops plan` does: a base revision's plan is not a second slower."""
    repo, torn_down = tmp_path / "repo", tmp_path / "torn-down"
    (repo / "ops").mkdir(parents=True)
    (repo / "Pulumi.yaml").write_text("name: marketplace\n")
    (repo / "ops" / "__init__.py").write_text("")
    # A revision with neither engine module: the script's fallback import must not stop it.
    (repo / "ops" / "cli.py").write_text(
        textwrap.dedent(
            f"""
            import atexit, gc, json, pathlib
            def main(argv):
                atexit.register(pathlib.Path({str(torn_down)!r}).touch)
                print(json.dumps({{"resources": [], "argv": argv, "collector": gc.isenabled()}}))
                return 0
            """
        )
    )
    with BasePlan(repo, _commit_all(repo), "dev", KEY) as base:
        document, why = base.result()
    assert why is None
    assert document == {"resources": [], "argv": ["plan", "--stack", "dev", "--json"], "collector": False}
    assert not torn_down.exists()


class GitDiff:
    """A copy of this checkout as a git repository whose `main` is the checkout and whose
    working tree adds fra1 to dev, and the real command on it in a process of its own:
    `python -m ops diff --stack dev --markdown`, which plans the base revision in yet
    another process by that revision's own code."""

    def __init__(self, directory: Path) -> None:
        self.repo = directory / "repo"
        ignore = shutil.ignore_patterns(
            ".git", "venv", "venv-*", "__pycache__", ".*_cache", ".plan-cache", ".tools", "node_modules", "out", "manifests"
        )
        shutil.copytree(ROOT, self.repo, ignore=ignore)
        self.env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PYTHONPATH")}
        (self.repo / "Pulumi.staging.yaml").unlink()
        self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "base")
        self.base = self.git("rev-parse", "HEAD").strip()
        # The pull request: a second region in dev.
        dev = self.repo / "Pulumi.dev.yaml"
        dev.write_text(dev.read_text().replace("    - nyc3\n", "    - nyc3\n    - fra1\n"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops", "diff", "--stack", "dev", "--markdown"],
            cwd=self.repo,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def git(self, *args: str) -> str:
        identity = ("-c", "user.name=ops test", "-c", "user.email=ops@example.com", "-c", "commit.gpgsign=false")
        command = ["git", "-C", str(self.repo), *identity, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, env=self.env).stdout

    def result(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=300)
        return self.process.returncode, out, err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def test_ops_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The real command against a git revision. The one test that pays for processes that
    import the SDKs (the command's, and the base's it starts), so it plans dev only; the
    command runs in its own process while this one checks the refusals."""
    run = GitDiff(tmp_path)
    # Meanwhile, in this process: an unknown base is refused before anything is planned,
    # and a base that cannot plan the stack says why (before importing anything heavy).
    assert main(["diff", "--stack", "dev", "--base", "no-such-branch", "--root", str(run.repo)]) == 1
    assert capsys.readouterr().err == f"error: unknown revision 'no-such-branch' in {run.repo}\n"
    with BasePlan(run.repo, run.base, "staging", KEY) as staging:
        assert staging.result() == (
            None,
            "stack 'staging': no stack file Pulumi.staging.yaml (only dev-<name> stacks may go without)",
        )

    try:
        code, out, err = run.result()
    finally:
        run.close()
    # A second region takes dev over its monthly budget: a mandatory policy, so the command
    # fails, after printing the whole review.
    assert code == 3, err
    assert err.strip().splitlines()[-1].startswith("error: Policy pack: 1 mandatory violation(s) (cost-dev-monthly-budget)")
    # The same comparison as the pure functions make of the cached plans of both sides.
    expected = render_markdown(adding_fra1(), "BASE")
    # The policy pack's verdict heads the comment.
    assert out.splitlines()[0].startswith(":no_entry: **Policy pack: 1 mandatory violation(s) (cost-dev-monthly-budget)")
    first = next(line for line in out.splitlines() if line.startswith("Offline plan of"))
    assert re.match(rf"Offline plan of `dev` against {run.base[:7]} \(merge base with main\): ", first)
    assert first.split(": ", 1)[1] == expected.splitlines()[0].split(": ", 1)[1]
    assert "+  digitalocean:index/kubernetesCluster:KubernetesCluster  fra1-doks" in out
    for line in expected.splitlines():
        if line.startswith(("| **change**", "- this change:", "- a fresh `pulumi up`")):
            assert line in out
