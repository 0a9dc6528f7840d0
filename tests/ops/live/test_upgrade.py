"""`ops upgrade`: every step is a small stack-file change that plans cleanly, and the
sequence from blue-only to green-only never leaves a region without a serving cluster."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.engine import Plan
from offline.stack_config import ROOT
from ops.cli import main
from tests.conftest import plan_of

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
STEPS = ("add", "canary", "promote", "retire")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project with production's stack file cut to two regions: the upgraded one and a
    bystander that must not change (five would only make the plans slower)."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    text = (ROOT / "Pulumi.production.yaml").read_text()
    for region in ("sfo3", "blr1", "sgp1"):
        text = text.replace(f"    - {region}\n", "")
    (tmp_path / "Pulumi.production.yaml").write_text(text)
    return tmp_path


def upgrade(project: Path, *args: str) -> int:
    return main(["upgrade", *args, "--stack", "production", "--root", str(project)])


def nyc3_clusters(plan: Plan) -> set[str]:
    return {r.name for r in plan.of_type(CLUSTER) if r.name.startswith("nyc3")}


def test_the_whole_upgrade_of_one_region(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    expected_clusters = [
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-green-doks"},
    ]
    expected_weights = [{"blue": 1, "green": 0}, {"blue": 0.9, "green": 0.1}, {"blue": 0, "green": 1}, {"green": 1}]
    # What lists every cluster (the project, the log store's firewall) follows the clusters.
    def elsewhere(plan: Plan) -> dict[str, Any]:
        return {r.urn: r.inputs for r in plan.resources if "nyc3" not in r.urn and "Project" not in r.type and not r.type.endswith("Firewall")}

    others_before = elsewhere(plan_of("production", stack_text=path.read_text()))
    for step, clusters, weights in zip(STEPS, expected_clusters, expected_weights, strict=True):
        assert upgrade(project, "nyc3", "--to", "1.34", "--step", step) == 0
        out = capsys.readouterr().out
        assert out.startswith("--- a/Pulumi.production.yaml")
        text = path.read_text()
        plan = plan_of("production", stack_text=text)
        assert nyc3_clusters(plan) == clusters, step
        declared = yaml.safe_load(text)["config"]["marketplace:generations"]["nyc3"]
        assert {g["name"]: g["weight"] for g in declared} == weights, step
        assert any(weight > 0 for weight in weights.values()), f"{step} leaves nyc3 without traffic"
        assert elsewhere(plan) == others_before, f"{step} touched another region"
    # Comments and layout of the file survive every step.
    assert path.read_text().startswith("# Production: five regions, HA control planes, a protected assets bucket.\nconfig:\n")
    assert "  marketplace:regions:\n    - nyc3\n    - fra1\n" in path.read_text()


def test_steps_out_of_order_are_refused_and_write_nothing(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    original = path.read_text()
    assert upgrade(project, "nyc3", "--to", "1.34", "--step", "retire") == 1
    assert "nyc3 has no generation on 1.34 beside another one: run --step add first" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.35", "--step", "add") == 1
    assert "1.35 is more than one minor from 1.33; DOKS upgrades one minor at a time" in capsys.readouterr().err
    assert upgrade(project, "tor1", "--to", "1.34", "--step", "add") == 1
    assert "region 'tor1' is not in the stack's marketplace:regions" in capsys.readouterr().err
    assert path.read_text() == original

    assert upgrade(project, "nyc3", "--to", "1.34", "--step", "add") == 0
    capsys.readouterr()
    assert upgrade(project, "nyc3", "--to", "1.34", "--step", "retire") == 1
    assert "retiring blue would leave nyc3 without a serving generation: promote first" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.34", "--step", "canary") == 0
    capsys.readouterr()
    assert upgrade(project, "nyc3", "--to", "1.34", "--step", "retire") == 1
    assert "blue still serves traffic (weight 0.9): promote first" in capsys.readouterr().err


def test_dry_run_prints_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    original = path.read_text()
    assert (
        main(["upgrade", "fra1", "--to", "1.34", "--step", "add", "--stack", "production", "--root", str(project), "--dry-run"])
        == 0
    )
    assert '+      - {name: green, kubernetesVersion: "1.34", weight: 0}' in capsys.readouterr().out
    assert path.read_text() == original


def test_each_step_plans_exactly_what_it_should_add_reweight_or_remove(project: Path, capsys: pytest.CaptureFixture[str]):
    from ops.review.diff import comparable_document, diff_documents

    key = b"upgrade-test"
    path = project / "Pulumi.production.yaml"
    before = comparable_document(plan_of("production", stack_text=path.read_text()), key)
    changes_by_step = {}
    for step in STEPS:
        assert upgrade(project, "nyc3", "--to", "1.34", "--step", step) == 0
        after = comparable_document(plan_of("production", stack_text=path.read_text()), key)
        diff = diff_documents(before, after)
        changes_by_step[step] = {(c.op, c.name) for c in diff.changes}
        before = after
    capsys.readouterr()

    added = {name for op, name in changes_by_step["add"] if op == "create"}
    assert added and all(name.startswith("nyc3-green") for name in added)
    assert {(op, name) for op, name in changes_by_step["add"] if op != "create"} == {
        ("update", "nyc3-pool"),
        ("update", "stack-resources"),
        ("update", "logs-firewall"),
        # Grafana (on the hub, nyc3) gains the new cluster's Prometheus.
        ("update", "nyc3-grafana-datasources"),
    }
    # The weight steps touch the region's pool and nothing else.
    assert changes_by_step["canary"] == {("update", "nyc3-pool")}
    assert changes_by_step["promote"] == {("update", "nyc3-pool")}
    removed = {name for op, name in changes_by_step["retire"] if op == "delete"}
    assert "nyc3-doks" in removed and "nyc3-gateway" in removed
    assert "nyc3-vpc" not in removed
    # Grafana and the log retention Job move to the generation that remains (the hub region's
    # first): green's Prometheus, now the hub's, needs no internal load balancer any more.
    assert {name for name in removed if name.startswith("nyc3-green")} == {"nyc3-green-monitoring-prometheus-internal"}
    assert {(op, name) for op, name in changes_by_step["retire"] if op == "update"} == {
        ("update", "nyc3-pool"),
        ("update", "stack-resources"),
        ("update", "logs-firewall"),
        ("update", "nyc3-green-monitoring-prometheus"),
    }
    created = {name for op, name in changes_by_step["retire"] if op == "create"}
    assert created == {
        "nyc3-green-grafana-datasources",
        *(f"nyc3-green-dashboard-{name}" for name in ("overview", "catalog", "gateway", "nodes")),
        *(f"nyc3-green-logs-retention{part}" for part in ("", "-script", "-credentials")),
    }
