"""`ops diff`: what a change does to a stack, from two offline plans, without a cloud account.

The working tree is planned in this process; the base revision (default: the merge base
with main) is unpacked into a temporary directory and planned there by its own code in a
separate process, so each side plans its own program, stack files and components. The two
plan documents are compared by URN, like a preview: resources added (+), deleted (-),
updated in place (~) or replaced (+-, when a property the provider cannot change in place
changes). Secrets never print: a change inside one shows as "[secret] changed".

The policy pack runs over the working tree's plan (policycheck.py) and its verdict comes
first; `--markdown` writes the pull-request comment: that verdict, a summary, the change in
monthly cost and in deploy time, and a collapsible section per region or component.
`--details` adds the key inputs of every resource the change creates.

Exit status: 0 compared, 1 either side could not be compared (one message on stderr), 3
compared but the policy pack has a mandatory violation (everything is printed first).

The pure parts (`diff_documents`, `render_text`, `render_markdown`) take plan documents,
so tests call them without git.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT
from ops.review.diff_compare import diff_documents, fingerprint_secrets
from ops.review.diff_render import render_markdown, render_text
from ops.review.plan import finish
from ops.review.plandoc import Document

_FINGERPRINT_ENV = "OPS_DIFF_FINGERPRINT_KEY"


class DiffError(Exception):
    pass


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def resolve_base(root: Path, revision: str | None) -> tuple[str, str]:
    """(commit, how to call it) of the revision to compare with."""
    if revision:
        try:
            commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        except DiffError:
            raise DiffError(f"unknown revision {revision!r} in {root}") from None
        # The workflow passes full SHAs: a comment reads better with the short form.
        return commit, commit[:7] if commit.startswith(revision) else f"{revision} ({commit[:7]})"
    for branch in ("main", "origin/main"):
        try:
            commit = _git(root, "merge-base", "HEAD", branch)
        except DiffError:
            continue
        return commit, f"{commit[:7]} (merge base with {branch})"
    commit = _git(root, "rev-parse", "--verify", "HEAD")
    return commit, f"{commit[:7]} (HEAD)"


# Runs in the base revision's directory, on that revision's own code: its `ops plan --json`,
# with secrets fingerprinted instead of blanked where its engine allows it. Like `python -m
# ops plan` (ops/__main__.py), without the cyclic collector, and it leaves by `os._exit` once
# the document is written: tearing down the imported SDKs would cost more than the plan.
_BASE_PLAN = """
import gc
gc.disable()
import hashlib, hmac, json, os, sys
sys.path.insert(0, os.getcwd())
key = bytes.fromhex(os.environ.pop(sys.argv[2], ""))
try:
    try:
        import offline.engine as engine
    except ImportError:  # revisions from before the engine had a package of its own
        import ops.engine as engine
    def redact(value):
        if isinstance(value, engine.SecretValue):
            plain = json.dumps(engine.reveal(value), sort_keys=True, default=str)
            return "[secret:" + hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()[:16] + "]"
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value
    if key:
        engine.redact = redact
except Exception:
    pass
try:  # what that revision's `ops plan` knows of the flags a comparison wants
    from ops.review.plan import DIFF_BASE_FLAGS as flags
except Exception:
    flags = ()
from ops.cli import main
code = main(["plan", "--stack", sys.argv[1], "--json", *flags])
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


class BasePlan:
    """The base revision's plan, running in a process of its own from the moment this is
    made, so that the working tree can be planned meanwhile: each side spends most of its
    time importing the cloud SDKs, and the two sides need not wait for each other.

    `result()` waits for it: (plan document, None), or (None, why not) when that revision
    cannot plan the stack. `close()` stops it and removes its directory; both are safe to
    call more than once, and a `with` block closes it."""

    def __init__(self, root: Path, commit: str, stack: str, key: bytes, timeout: float = 300) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen[str] | None = None
        self._outcome: tuple[Document | None, str | None] | None = None
        prefix = _git(root, "rev-parse", "--show-prefix")
        archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", commit], capture_output=True, check=False)
        if archive.returncode != 0:
            raise DiffError(f"git archive {commit[:7]}: {archive.stderr.decode(errors='replace').strip()}")
        self._tmp = tempfile.TemporaryDirectory(prefix="ops-diff-")
        try:
            self._start(Path(self._tmp.name, prefix), stack, key, archive.stdout)
        except BaseException:
            self._tmp.cleanup()
            raise

    def _start(self, project: Path, stack: str, key: bytes, archive: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(self._tmp.name, filter="data")
        if not (project / "Pulumi.yaml").exists():
            self._outcome = (None, "the base revision has no Pulumi project here")
            return
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env[_FINGERPRINT_ENV] = key.hex()
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BASE_PLAN, stack, _FINGERPRINT_ENV],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> tuple[Document | None, str | None]:
        if self._outcome is None:
            self._outcome = self._wait()
        self.close()
        return self._outcome

    def _wait(self) -> tuple[Document | None, str | None]:
        assert self._process is not None
        try:
            stdout, stderr = self._process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return None, f"planning the base timed out after {self.timeout:.0f} s"
        if self._process.returncode != 0:
            lines = stderr.strip().splitlines() or [f"exit status {self._process.returncode}"]
            # `ops plan` says why in one "error:" line; anything else, the last line says most.
            reason = next((line for line in reversed(lines) if line.startswith("error: ")), lines[-1])
            return None, reason.removeprefix("error: ")
        return _json_document(stdout)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        self._tmp.cleanup()

    def __enter__(self) -> BasePlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_document(stdout: str) -> tuple[Document | None, str | None]:
    # A program may log a line before the plan; the document is the object that follows.
    start = 0 if stdout.startswith("{") else stdout.find("\n{") + 1
    document: Any = None
    if start or stdout.startswith("{"):
        try:
            document, _ = json.JSONDecoder().raw_decode(stdout[start:])
        except json.JSONDecodeError:
            document = None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        return None, "the base revision's `ops plan --json` printed no plan document"
    return document, None


def comparable_document(plan: Any, key: bytes) -> Document:
    """`ops plan --json`'s document of a plan, with what a comparison needs beyond it:
    secrets fingerprinted rather than blanked, and, for the head side only, which
    resources each property refers to and which old URNs a moved resource answers to."""
    from ops.review.plan import plan_document

    document = plan_document(plan)
    planned = {r.urn: r for r in plan.resources}
    for resource in document["resources"]:
        source = planned[resource["urn"]]
        resource["inputs"] = fingerprint_secrets(source.inputs, key)
        resource["propertyDependencies"] = {k: sorted(set(v)) for k, v in source.property_dependencies.items()}
        resource["aliases"] = [a for a in source.aliases if a.startswith("urn:pulumi:")]
    document["outputs"] = fingerprint_secrets(plan.outputs, key)
    return document


def head_plan(stack: str, root: Path) -> Any:
    from offline.engine import run_plan

    return run_plan(stack, root=root)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack to compare (default: dev)")
    parser.add_argument("--base", metavar="REV", help="git revision to compare with (default: the merge base of HEAD with main)")
    parser.add_argument("--markdown", action="store_true", help="print a pull-request comment in Markdown")
    parser.add_argument("--details", action="store_true", help="also show the key inputs of every resource the change creates")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (it runs by default)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def review(
    plan: Any,
    base: Document | None,
    label: str,
    *,
    key: bytes,
    note: str | None = None,
    markdown: bool = False,
    details: bool = False,
    policy: bool = True,
) -> tuple[str, Any]:
    """What `ops diff` prints for the working tree's plan against a base document, and the
    policy pack's report (None when skipped): the pure part of the command."""
    from ops.review.findings import diff_findings
    from ops.review.policycheck import check

    report = check(plan) if policy else None
    diff = diff_documents(base, comparable_document(plan, key), base_note=note)
    text = (render_markdown if markdown else render_text)(diff, label, policy=report, warnings=diff_findings(diff))
    if details and diff.created:
        from ops.review.details import render as render_details

        created = render_details(diff.head, diff.created, title="Resources this change creates")
        text += (
            f"\n<details><summary>Resources this change creates</summary>\n\n```\n{created}```\n\n</details>\n"
            if markdown
            else f"\n{created}"
        )
    return text, report


def run(args: argparse.Namespace) -> int:
    from offline.engine import PlanError

    key = secrets.token_bytes(32)
    try:
        commit, label = resolve_base(args.root, args.base)
        # The base plans in its own process while the working tree plans in this one.
        with BasePlan(args.root, commit, args.stack, key) as planning:
            plan = head_plan(args.stack, args.root)
            base, why = planning.result()
    except (PlanError, DiffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    note = f"The base {label} cannot plan stack `{args.stack}` ({why}): everything is new." if why else None
    if why:
        print(f"note: base {label}: {why}", file=sys.stderr)
    text, report = review(
        plan, base, label, key=key, note=note, markdown=args.markdown, details=args.details, policy=not args.no_policy
    )
    sys.stdout.write(text)
    return finish(report)
