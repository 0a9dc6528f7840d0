"""checkov over the Kubernetes manifests of every stack: zero failed checks.

checkov runs from its own virtualenv (venv-checkov, built by `make unit` from
requirements-checkov.txt: it pins a `packaging` that pulumi cannot live with), offline
(`--skip-download`). The checks this project skips, each with its reason, are in ONE file,
policy/checkov-skips.yaml, passed with `--skip-check`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from offline.engine import Plan
from offline.stack_config import ROOT
from ops.review.manifests import write_manifests
from tests import policy_fixtures as fx
from tests.conftest import STACKS, plan_of

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


def skips() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(SKIPS_FILE.read_text())["skips"]
    return entries


def scan(directory: Path, *, apply_skips: bool = True) -> Scan:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed in {CHECKOV.parent.parent.name}: run `make venv-checkov/.installed` (make unit does)"
        )
    command = [str(CHECKOV), "--directory", str(directory), "--framework", "kubernetes", "--skip-download"]
    command += ["--quiet", "--compact", "--output", "json"]
    if apply_skips:
        command += ["--skip-check", ",".join(entry["id"] for entry in skips())]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    # 1 means "some checks failed"; anything else non-zero is checkov itself failing.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    document = json.loads(result.stdout)
    reports = document if isinstance(document, list) else [document]
    failures, resources = [], 0
    for report in reports:
        summary = report.get("summary", report)
        assert summary.get("parsing_errors", 0) == 0, f"checkov could not parse some manifests under {directory}"
        resources += summary.get("resource_count", 0)
        for check in report.get("results", {}).get("failed_checks", []):
            failures.append(Failure(check["check_id"], check["check_name"], check["file_path"], check["resource"]))
    return Scan(failures, resources)


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


def test_every_stack_manifests_pass_checkov(tmp_path: Path):
    write_stacks(write_manifests, tmp_path)
    result = scan(tmp_path)
    assert result.resources > 0
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


def test_the_harness_passes_hardened_manifests_and_fails_a_bad_deployment(tmp_path: Path):
    write_stacks(fixture_writer, tmp_path / "stacks")
    write(tmp_path / "bad", [bad_deployment()])
    result = scan(tmp_path)
    assert result.resources > 4 * len(fx.manifests(fx.good_edge_and_workloads()))
    good = [str(f) for f in result.failures if f.file.startswith("/stacks/")]
    bad = {f.check for f in result.failures if f.file.startswith("/bad/")}
    assert good == []
    # The scan can fail: probes, resources, root, privilege, host network, latest tag.
    assert {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11", "CKV_K8S_13", "CKV_K8S_14", "CKV_K8S_16"} <= bad
    assert {"CKV_K8S_19", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37"} <= bad
    # ...and the skips were applied: latest is no digest either.
    assert not bad & {entry["id"] for entry in skips()}


def test_each_skip_is_needed_by_the_manifest_shapes_the_policies_accept(tmp_path: Path):
    write(tmp_path, fx.manifests(fx.good_edge_and_workloads()))
    result = scan(tmp_path, apply_skips=False)
    assert {f.check for f in result.failures} == {entry["id"] for entry in skips()}
