"""What the pipeline runs with its credentials: every third-party action pinned to a full
commit SHA with its tag beside it, Python packages from hash-pinned locks that match the
pins, and zizmor's audit of .github/ clean but for the findings accepted with a reason."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_workflows import ROOT, tool

GITHUB = ROOT / ".github"
ZIZMOR_CONFIG = GITHUB / "zizmor.yml"
# `uses: owner/repo[/path]@<40 hex> # vX.Y.Z`, or this repository's own action at the running commit.
PINNED_USE = re.compile(r"^\s*-?\s*uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+\.\d+\.\d+)\s*$")
LOCAL_USE = re.compile(r"^\s*-?\s*uses: \$/\.github/actions/[\w-]+\s*$")
# An entry may carry an environment marker (`colorama==0.4.6 ; sys_platform == 'win32' \`); a
# universal lock may hold a package twice, one version per range of Python versions.
LOCK_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)(?: ; (?P<marker>[^\\]*?))? \\$")
# (requirements file, its lock): the locks credential jobs install (.github/actions/locked-venv),
# and those `make` installs the virtualenvs of the tests and uv from (Makefile, `make lock`).
LOCKS = [
    ("requirements.txt", "requirements.lock"),
    ("policy/requirements.txt", "policy/requirements.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
    ("requirements-checkov.txt", "requirements-checkov.lock"),
    ("requirements-uv.txt", "requirements-uv.lock"),
]


def uses_lines() -> list[tuple[str, str]]:
    found = []
    for path in sorted(GITHUB.rglob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*-?\s*uses:", line):
                found.append((str(path.relative_to(ROOT)), line))
    return found


# --------------------------------------------------------------------------- actions


def test_every_action_is_pinned_to_a_commit_with_its_tag_beside_it() -> None:
    lines = uses_lines()
    assert len(lines) > 20
    for where, line in lines:
        assert PINNED_USE.match(line) or LOCAL_USE.match(line), f"{where}: {line.strip()}"


def test_one_action_one_commit_everywhere() -> None:
    """Dependabot moves every pin of an action together; two commits of one action would
    mean a pin it cannot see."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for _, line in uses_lines():
        if found := PINNED_USE.match(line):
            pins.setdefault(found["action"], set()).add((found["sha"], found["tag"]))
    assert set(pins) == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/download-artifact",
        "actions/github-script",
        "pulumi/actions",
    }
    assert all(len(commits) == 1 for commits in pins.values()), pins


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@v7",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",  # no tag to review against
        "      - uses: actions/checkout@3d3c42e # v7.0.1",
        "      - uses: ./.github/actions/locked-venv",  # resolved from the workspace, which a step can change
    ],
)
def test_the_pin_pattern_refuses(line: str) -> None:
    assert not PINNED_USE.match(line) and not LOCAL_USE.match(line)


# ----------------------------------------------------------------------------- locks


def pins(path: Path) -> dict[str, str]:
    found = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            found[normalize(name)] = version.strip()
    return found


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a `uv pip compile --generate-hashes` output; an entry
    with a marker is named "name ; marker"."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if found := LOCK_ENTRY.match(line):
            current = normalize(found["name"]) + (f" ; {found['marker']}" if found["marker"] else "")
            entries[current] = (found["version"], [])
        elif line.strip().startswith("--hash=sha256:") and current:
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line and not line.startswith(" "):
            current = None
    return entries


@pytest.mark.parametrize(("requirements", "lock"), LOCKS)
def test_each_lock_pins_what_its_requirements_pin_with_hashes_for_everything(requirements: str, lock: str) -> None:
    """A Dependabot bump of requirements*.txt without a regenerated lock fails here, in the
    pull request, instead of deploying the old version."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    assert text.startswith("# This file was autogenerated by uv via the following command:\n")
    command = text.splitlines()[1]
    for part in ("uv pip compile", "--generate-hashes", "--python-version 3.11", f" {requirements}"):
        assert part in command, f"{lock} was not made by uv pip compile --generate-hashes from {requirements}: {command}"
    entries = lock_entries(ROOT / lock)
    for name, version in pins(ROOT / requirements).items():
        assert entries.get(name, ("missing",))[0] == version, f"{lock}: {name} is not {version}"
    for name, (_, hashes) in entries.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), f"{lock}: {name}"
    # Every requirement line of the lock is an entry: nothing unhashed slips in.
    requirement_lines = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(requirement_lines) == len(entries)


@pytest.mark.parametrize("lock", ["requirements.lock", "policy/requirements.lock"])
def test_deploys_run_the_versions_the_tests_ran(lock: str) -> None:
    """The program's lock and the policy pack's (the CLI installs it for --policy-pack) are
    the development lock (which the tests run on) cut down to what each needs, compiled
    within it. Compiled apart they disagreed: pulumi-policy holds protobuf below 6, so the
    tests ran protobuf 5 while a deploy would have run 6."""
    assert "--constraint requirements-dev.lock" in (ROOT / lock).read_text(encoding="utf-8").splitlines()[1]
    deployed = lock_entries(ROOT / lock)
    development = lock_entries(ROOT / "requirements-dev.lock")
    assert set(deployed) <= set(development)
    assert {name: version for name, (version, _) in deployed.items()} == {name: development[name][0] for name in deployed}


def test_the_lock_reader_sees_a_missing_hash(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("pulumi==3.272.0 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via -r requirements.txt\nPyYAML==6.0.3 \\\n")
    assert lock_entries(lock) == {"pulumi": ("3.272.0", ["a" * 64]), "pyyaml": ("6.0.3", [])}
    forked = tmp_path / "forked.lock"
    forked.write_text(
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n"
    )
    assert lock_entries(forked) == {
        "numpy ; python_full_version < '3.12'": ("2.4.6", ["b" * 64]),
        "numpy ; python_full_version >= '3.12'": ("2.5.5", []),
    }


# ---------------------------------------------------------------------------- zizmor


def zizmor(target: Path, *options: str) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", *options, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return result.returncode, findings


def summary(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{f['ident']} ({f['determinations']['severity']}): {f['locations'][0]['symbolic']['key']['Local']['verbatim_path']}"
        for f in findings
    ]


def test_zizmor_finds_nothing_in_github_but_the_accepted_findings() -> None:
    code, findings = zizmor(GITHUB, "--config", str(ZIZMOR_CONFIG))
    assert (code, summary(findings)) == (0, [])


def test_zizmor_auditor_persona_finds_nothing_of_medium_or_high_severity() -> None:
    _, findings = zizmor(GITHUB, "--config", str(ZIZMOR_CONFIG), "--persona", "auditor")
    serious = [f for f in findings if f["determinations"]["severity"] in ("Medium", "High")]
    assert summary(serious) == []


def test_every_accepted_finding_has_its_reason() -> None:
    lines = ZIZMOR_CONFIG.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^\s+- [\w.-]+\.yml", line):
            assert lines[index - 1].strip().startswith("#"), f"no reason above {line.strip()}"


def test_zizmor_fails_on_a_dangerous_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v7\n"
        "        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    code, findings = zizmor(tmp_path / ".github", "--no-config")
    assert code == 14  # zizmor's exit code when the worst finding is high
    high = {f["ident"] for f in findings if f["determinations"]["severity"] == "High"}
    assert {"dangerous-triggers", "template-injection", "unpinned-uses"} <= high
