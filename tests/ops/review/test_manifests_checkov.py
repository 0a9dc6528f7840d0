"""checkov over the Kubernetes manifests of every stack: zero failed checks.

checkov runs from its own virtualenv (venv-checkov, built by `make unit` from
requirements-checkov.txt: it pins a `packaging` that pulumi cannot live with), offline
(`--skip-download`). The checks this project skips, each with its reason, are in ONE file,
policy/checkov-skips.yaml, passed with `--skip-check`.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from offline.engine import Plan
from offline.stack_config import ROOT
from ops.review.manifests import write_manifests
from tests import policy_fixtures as fx
from tests.conftest import STACKS, once_per_session, plan_of

CHECKOV = ROOT / "venv-checkov" / "bin" / "checkov"
SKIPS_FILE = ROOT / "policy" / "checkov-skips.yaml"


class Failure(NamedTuple):
    check: str
    title: str
    file: str
    resource: str

    def __str__(self) -> str:
        return f"{self.check} {self.title}: {self.resource} in {self.file}"


class Scan(NamedTuple):
    failures: list[Failure]
    resources: int
    # (file, resource) of every object checkov checked
    checked: frozenset[tuple[str, str]] = frozenset()


def skips() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(SKIPS_FILE.read_text())["skips"]
    return entries


def checkov(directory: Path, *, apply_skips: bool) -> subprocess.Popen[str]:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed in {CHECKOV.parent.parent.name}: run `make venv-checkov/.installed` (make unit does)"
        )
    command = [str(CHECKOV), "--directory", str(directory), "--framework", "kubernetes", "--skip-download"]
    # Not --quiet: the passed checks show which objects checkov read.
    command += ["--compact", "--output", "json"]
    if apply_skips:
        command += ["--skip-check", ",".join(entry["id"] for entry in skips())]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(process: subprocess.Popen[str], directory: Path) -> Scan:
    out, err = process.communicate(timeout=600)
    # 1 means "some checks failed"; anything else non-zero is checkov itself failing.
    assert process.returncode in (0, 1), err[-3000:]
    document = json.loads(out)
    reports = document if isinstance(document, list) else [document]
    failures, resources, checked = [], 0, set()
    for report in reports:
        summary = report.get("summary", report)
        assert summary.get("parsing_errors", 0) == 0, f"checkov could not parse some manifests under {directory}"
        resources += summary.get("resource_count", 0)
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            failures.append(Failure(check["check_id"], check["check_name"], check["file_path"], check["resource"]))
        checked |= {(check["file_path"], check["resource"]) for check in results.get("passed_checks", []) + results.get("failed_checks", [])}
    return Scan(failures, resources, frozenset(checked))


class Scans(NamedTuple):
    program: Scan  # every stack's manifests, with the skips
    harness: Scan  # the hardened fixtures as each stack's manifests and a bad deployment, with the skips
    unskipped: Scan  # the hardened fixtures, without the skips
    written: int  # objects written for the run with the skips


def scan_everything(directory: Path) -> Scans:
    """The three scans the tests read, made once per session: checkov takes seconds to start,
    so the two with the skips are one run over two folders, beside the one without, at once."""
    skipped, unskipped = directory / "skipped", directory / "unskipped"
    write_stacks(write_manifests, skipped / "program")
    write_stacks(fixture_writer, skipped / "harness" / "stacks")
    write(skipped / "harness" / "bad", [bad_deployment()])
    write(unskipped, fx.manifests(fx.good_edge_and_workloads()))
    runs = [checkov(skipped, apply_skips=True), checkov(unskipped, apply_skips=False)]
    both, without = result_of(runs[0], skipped), result_of(runs[1], unskipped)
    written = sum(len(list(yaml.safe_load_all(path.read_text()))) for path in skipped.rglob("*.yaml"))
    parsed = both.resources
    return Scans(part_of(both, "/program", parsed), part_of(both, "/harness", parsed), without, written)


def part_of(scan: Scan, folder: str, parsed: int) -> Scan:
    """What a scan found under one of its folders (checkov prints paths from the scanned folder
    down: /harness/bad/00-deployment.yaml), as if that folder had been scanned alone; `resources`
    is what checkov parsed in the whole run."""
    failures = [f._replace(file=f.file.removeprefix(folder)) for f in scan.failures if f.file.startswith(f"{folder}/")]
    checked = frozenset((file.removeprefix(folder), name) for file, name in scan.checked if file.startswith(f"{folder}/"))
    return Scan(failures, parsed, checked)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Scans:
    return once_per_session(tmp_path_factory, "checkov", scan_everything)


def write(directory: Path, objects: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for index, manifest in enumerate(objects):
        (directory / f"{index:02d}-{manifest['kind'].lower()}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def test_the_skips_file_gives_a_reason_for_each_check():
    entries = skips()
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids)), "a check is listed twice"
    for entry in entries:
        assert entry["id"].startswith(("CKV_K8S_", "CKV2_K8S_")), entry
        assert entry.get("check"), f"{entry['id']}: name the check"
        assert len(entry.get("reason", "")) > 40, f"{entry['id']}: say why the project accepts what it refuses"


WriteManifests = Callable[[Plan, Path], list[Path]]


def write_stacks(write_manifests: WriteManifests, directory: Path) -> None:
    for stack in STACKS:
        written = write_manifests(plan_of(stack), directory / stack)
        assert written, f"{stack}: no manifest written"


def test_every_stack_manifests_pass_checkov(scans: Scans):
    result = scans.program
    assert result.resources >= scans.written, "checkov read fewer objects than were written"
    assert {file.split("/")[1] for file, _ in result.checked} == set(STACKS)
    assert [str(f) for f in result.failures] == []


def bad_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "leaky", "namespace": "catalog"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "leaky"}},
            "template": {
                "metadata": {"labels": {"app": "leaky"}},
                "spec": {
                    "hostNetwork": True,
                    "containers": [{"name": "web", "image": "nginx:latest", "securityContext": {"privileged": True}}],
                },
            },
        },
    }


def fixture_writer(plan: Plan, directory: Path) -> list[Path]:
    """A stand-in for ops.review.manifests.write_manifests: the hardened fixtures as each stack's manifests."""
    write(directory, fx.manifests(fx.good_edge_and_workloads()))
    return sorted(directory.glob("*.yaml"))


def test_the_harness_passes_hardened_manifests_and_fails_a_bad_deployment(scans: Scans):
    result = scans.harness
    assert scans.written > 4 * len(fx.manifests(fx.good_edge_and_workloads()))
    assert result.resources >= scans.written, "checkov read fewer objects than were written"
    per_stack = Counter(file.split("/")[2] for file, _ in result.checked if file.startswith("/stacks/"))
    assert set(per_stack) == set(STACKS) and len(set(per_stack.values())) == 1, per_stack
    good = [str(f) for f in result.failures if f.file.startswith("/stacks/")]
    bad = {f.check for f in result.failures if f.file.startswith("/bad/")}
    assert good == []
    # The scan can fail: probes, resources, root, privilege, host network, latest tag.
    assert {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11", "CKV_K8S_13", "CKV_K8S_14", "CKV_K8S_16"} <= bad
    assert {"CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37"} <= bad
    # ...and the skips were applied: latest is no digest either.
    assert not bad & {entry["id"] for entry in skips()}


def test_each_skip_is_needed_by_the_manifest_shapes_the_policies_accept(scans: Scans):
    result = scans.unskipped
    assert {f.check for f in result.failures} == {entry["id"] for entry in skips()}
