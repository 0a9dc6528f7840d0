"""`ops upgrade`: every step is a small stack-file change that plans cleanly, the sequence
from blue-only to green-only never leaves a region without a serving cluster, the two
generations never share a physical name (their load balancers least of all), and a
production cluster loses its protection in a reviewed step of its own before it goes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.engine import Plan
from offline.stack_config import ROOT
from ops.cli import main
from tests.conftest import plan_of

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
LB_NAME = "service.beta.kubernetes.io/do-loadbalancer-name"
# Production's clusters are protected: retire runs twice (lift the protection, then remove).
STEPS = ("add", "canary", "promote", "retire", "retire")


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


def load_balancer_names(plan: Plan) -> dict[str, str]:
    """Cluster generation -> the DigitalOcean load balancer name its gateway asks for."""
    return {
        proxy.name.removesuffix("-gateway-proxy-config"): proxy.inputs["spec"]["provider"]["kubernetes"]["envoyService"][
            "annotations"
        ][LB_NAME]
        for proxy in plan.of_type(PROXY)
    }


def test_the_whole_upgrade_of_one_region(project: Path, capsys: pytest.CaptureFixture[str]):
    from ops.review.findings import name_collisions
    from ops.review.plan import plan_document

    path = project / "Pulumi.production.yaml"
    expected_clusters = [
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-doks", "nyc3-green-doks"},
        {"nyc3-green-doks"},
    ]
    expected_weights = [
        {"blue": 1, "green": 0},
        {"blue": 0.9, "green": 0.1},
        {"blue": 0, "green": 1},
        {"blue": 0, "green": 1},
        {"green": 1},
    ]
    expected_protected = [{"nyc3-doks", "nyc3-green-doks"}] * 3 + [{"nyc3-green-doks"}] * 2
    load_balancers: set[str] = set()

    # What lists every cluster (the project, the log store's firewall) follows the clusters.
    def elsewhere(plan: Plan) -> dict[str, Any]:
        return {
            r.urn: r.inputs
            for r in plan.resources
            if "nyc3" not in r.urn and "Project" not in r.type and not r.type.endswith("Firewall")
        }

    others_before = elsewhere(plan_of("production", stack_text=path.read_text()))
    for step, clusters, weights, protected in zip(STEPS, expected_clusters, expected_weights, expected_protected, strict=True):
        assert upgrade(project, "nyc3", "--to", "1.37", "--step", step) == 0
        out = capsys.readouterr().out
        assert out.startswith("--- a/Pulumi.production.yaml")
        text = path.read_text()
        plan = plan_of("production", stack_text=text)
        assert nyc3_clusters(plan) == clusters, step
        assert {c.name for c in plan.of_type(CLUSTER) if c.name.startswith("nyc3") and c.protect} == protected, step
        # No physical name (cluster, load balancer, pools, ranges) is asked for twice.
        assert name_collisions([plan_document(plan)]) == [], step
        names = {k: v for k, v in load_balancer_names(plan).items() if k.startswith("nyc3")}
        assert len(set(names.values())) == len(names), step
        load_balancers |= set(names.values())
        declared = yaml.safe_load(text)["config"]["marketplace:generations"]["nyc3"]
        assert {g["name"]: g["weight"] for g in declared} == weights, step
        assert any(weight > 0 for weight in weights.values()), f"{step} leaves nyc3 without traffic"
        assert elsewhere(plan) == others_before, f"{step} touched another region"
        # Outputs stay keyed by region: clusters.nyc3 is the generation that serves nyc3.
        serving = max(weights, key=lambda name: weights[name])
        cluster_id = next(
            c.id for c in plan.of_type(CLUSTER) if c.name == ("nyc3-doks" if serving == "blue" else "nyc3-green-doks")
        )
        for key in ("clusters", "origins", "kubeconfigs", "kubernetesVersions"):
            assert set(plan.outputs[key]) == {"nyc3", "fra1"}, (step, key)
        assert plan.outputs["clusters"]["nyc3"] == cluster_id, step
        assert set(plan.outputs["generations"]["nyc3"]) == set(weights), step
        assert {g: d["weight"] for g, d in plan.outputs["generations"]["nyc3"].items()} == weights, step
    assert load_balancers == {"mkt-production-nyc3-gateway", "mkt-production-nyc3-green-gateway"}
    # Comments and layout of the file survive every step.
    assert path.read_text().startswith("# Production: five regions, HA control planes, a protected assets bucket.\nconfig:\n")
    assert "  marketplace:regions:\n    - nyc3\n    - fra1\n" in path.read_text()


def test_steps_out_of_order_are_refused_and_write_nothing(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    original = path.read_text()
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "retire") == 1
    assert "nyc3 has no generation on 1.37 beside another one: run --step add first" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.38.0-do.0", "--step", "add") == 1
    assert "1.38.0-do.0 is more than one minor from 1.36.1-do.0; DOKS upgrades one minor at a time" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.35", "--step", "add") == 1
    assert "1.35.6-do.0 is lower than 1.36.1-do.0, which nyc3 runs: DOKS versions only move forward" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.38", "--step", "add") == 1
    assert "data/kubernetes-versions.yaml knows no version of 1.38" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "latest", "--step", "add") == 1
    assert '--to must be an exact DOKS version such as "1.37.1-do.0" or a minor' in capsys.readouterr().err
    assert upgrade(project, "tor1", "--to", "1.37", "--step", "add") == 1
    assert "region 'tor1' is not in the stack's marketplace:regions" in capsys.readouterr().err
    assert path.read_text() == original

    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "add") == 0
    capsys.readouterr()
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "retire") == 1
    assert "retiring blue would leave nyc3 without a serving generation: promote first" in capsys.readouterr().err
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "canary") == 0
    capsys.readouterr()
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "retire") == 1
    assert "blue still serves traffic (weight 0.9): promote first" in capsys.readouterr().err


def test_without_a_stack_it_is_refused_with_its_usage(project: Path, capsys: pytest.CaptureFixture[str]):
    original = (project / "Pulumi.production.yaml").read_text()
    with pytest.raises(SystemExit) as refused:
        main(["upgrade", "nyc3", "--to", "1.37", "--step", "add", "--root", str(project)])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ops upgrade ") and err.rstrip().endswith(
        "ops upgrade: error: the following arguments are required: --stack/-s"
    )
    assert (project / "Pulumi.production.yaml").read_text() == original
    # And every option says what it does (--root is the tests' own, hidden).
    import argparse

    from ops.live import upgrade as command

    parser = argparse.ArgumentParser(prog="ops upgrade")
    command.add_arguments(parser)
    undocumented = [action.dest for action in parser._actions if not action.help]
    assert undocumented == [] and {a.dest for a in parser._actions if a.help == argparse.SUPPRESS} == {"root"}


def test_promote_without_a_canary_needs_skip_canary(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "add") == 0
    added = path.read_text()
    capsys.readouterr()
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "promote") == 1
    assert capsys.readouterr().err == (
        "error: stack 'production': green has served none of nyc3's traffic: run --step canary first, "
        "or pass --skip-canary to move all of it at once\n"
    )
    assert path.read_text() == added
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "promote", "--skip-canary") == 0
    declared = yaml.safe_load(path.read_text())["config"]["marketplace:generations"]["nyc3"]
    assert {g["name"]: g["weight"] for g in declared} == {"blue": 0, "green": 1}


def test_dry_run_prints_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    original = path.read_text()
    assert (
        main(["upgrade", "fra1", "--to", "1.37", "--step", "add", "--stack", "production", "--root", str(project), "--dry-run"])
        == 0
    )
    # The exact version, never the minor: the stack file pins what the cluster runs.
    assert '+      - {name: green, kubernetesVersion: "1.37.1-do.0", weight: 0}' in capsys.readouterr().out
    assert path.read_text() == original


def test_each_step_plans_exactly_what_it_should_add_reweight_or_remove(project: Path, capsys: pytest.CaptureFixture[str]):
    from ops.review.diff import comparable_document, diff_documents

    key = b"upgrade-test"
    path = project / "Pulumi.production.yaml"
    before = comparable_document(plan_of("production", stack_text=path.read_text()), key)
    changes = []
    for step in STEPS:
        assert upgrade(project, "nyc3", "--to", "1.37", "--step", step) == 0
        after = comparable_document(plan_of("production", stack_text=path.read_text()), key)
        diff = diff_documents(before, after)
        changes.append({(c.op, c.name) for c in diff.changes})
        before = after
    capsys.readouterr()
    add, canary, promote, unprotect, retire = changes

    added = {name for op, name in add if op == "create"}
    assert added and all(name.startswith("nyc3-green") for name in added)
    assert {(op, name) for op, name in add if op != "create"} == {
        ("update", "nyc3-pool"),
        ("update", "stack-resources"),
        ("update", "logs-firewall"),
        # Grafana (on the hub, nyc3) gains the new cluster's Prometheus.
        ("update", "nyc3-grafana-datasources"),
    }
    # The weight steps touch the region's pool and nothing else.
    assert canary == {("update", "nyc3-pool")}
    assert promote == {("update", "nyc3-pool")}
    # Lifting the protection is a step of its own that changes nothing else.
    assert unprotect == {("update", "nyc3-doks")}
    removed = {name for op, name in retire if op == "delete"}
    assert "nyc3-doks" in removed and "nyc3-gateway" in removed
    assert "nyc3-vpc" not in removed
    # Grafana and the log retention Job move to the generation that remains (the hub region's
    # first): green's Prometheus, now the hub's, needs no internal load balancer any more.
    assert {name for name in removed if name.startswith("nyc3-green")} == {"nyc3-green-monitoring-prometheus-internal"}
    assert {(op, name) for op, name in retire if op == "update"} == {
        ("update", "nyc3-pool"),
        ("update", "stack-resources"),
        ("update", "logs-firewall"),
        ("update", "nyc3-green-monitoring-prometheus"),
    }
    created = {name for op, name in retire if op == "create"}
    assert created == {
        "nyc3-green-grafana-datasources",
        "nyc3-green-dashboards",
        *(f"nyc3-green-logs-retention{part}" for part in ("", "-script", "-credentials")),
    }


GENERATIONS_KEY = "  marketplace:generations:"


@pytest.mark.parametrize(
    ("generations", "refusal"),
    [
        (" [1, 2]", "config 'marketplace:generations': must be an object, got '[1, 2]'"),
        (" abc", "config 'marketplace:generations': must be an object, got 'abc'"),
        ("\n    nyc3: abc", "config 'marketplace:generations.nyc3': must be a list, got 'abc'"),
        (
            "\n    nyc3:\n      - 5",
            "config 'marketplace:generations.nyc3[0]': must be an object {name, kubernetesVersion, weight, nodeSize, protect}, got 5",
        ),
        (
            '\n    nyc3:\n      - {name: red, kubernetesVersion: "1.36.1-do.0", weight: 1}',
            "config 'marketplace:generations.nyc3[0].name': must be 'blue' or 'green', got 'red'",
        ),
        (
            '\n    nyc3:\n      - {name: blue, weight: 1}\n      - {name: green, kubernetesVersion: "1.37.1-do.0"}',
            "config 'marketplace:generations.nyc3[1].weight': must be a number from 0 to 1, got null",
        ),
    ],
)
def test_a_stack_file_the_program_refuses_is_refused_in_its_words_before_any_step(
    project: Path, capsys: pytest.CaptureFixture[str], generations: str, refusal: str
):
    path = project / "Pulumi.production.yaml"
    path.write_text(f"{path.read_text()}{GENERATIONS_KEY}{generations}\n")
    original = path.read_text()
    for step in ("add", "promote"):
        assert upgrade(project, "nyc3", "--to", "1.37", "--step", step) == 1
        assert capsys.readouterr().err == f"error: stack 'production': {refusal}\n"
    assert path.read_text() == original


def test_a_stack_file_that_cannot_be_read_is_refused_in_one_line_naming_the_stack_once(
    project: Path, capsys: pytest.CaptureFixture[str]
):
    path = project / "Pulumi.production.yaml"
    original = path.read_text()
    path.write_text(original + "  marketplace:regions: [\n")
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "add") == 1
    assert capsys.readouterr().err.startswith("error: stack 'production': Pulumi.production.yaml is not valid YAML at line ")
    # The program reads UTF-16 as the CLI does; the tool that rewrites the file in place does not.
    path.write_text(original, encoding="utf-16")
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "add") == 1
    assert capsys.readouterr().err == (
        "error: stack 'production': Pulumi.production.yaml is not UTF-8 text (offset 0): ops upgrade edits UTF-8 files\n"
    )


def test_a_generation_without_a_version_of_its_own_runs_the_stacks(project: Path, capsys: pytest.CaptureFixture[str]):
    path = project / "Pulumi.production.yaml"
    path.write_text(f"{path.read_text()}{GENERATIONS_KEY}\n    nyc3:\n      - {{name: blue, weight: 1}}\n")
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "add") == 0
    assert capsys.readouterr().out.splitlines()[-2] == "nyc3: added green on 1.37.1-do.0 at weight 0 beside blue on 1.36.1-do.0"
    assert upgrade(project, "nyc3", "--to", "1.37", "--step", "canary") == 0
    declared = yaml.safe_load(path.read_text())["config"]["marketplace:generations"]["nyc3"]
    assert {g["name"]: g["weight"] for g in declared} == {"blue": 0.9, "green": 0.1}


def test_its_usage_loads_no_cloud_sdk():
    code = (
        "import sys; from ops.cli import main\n"
        "try:\n    main(['upgrade', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith(('pulumi', 'grpc'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_a_region_past_its_minors_end_of_life_can_still_be_upgraded(project: Path, capsys: pytest.CaptureFixture[str]):
    """The program refuses a region whose only cluster runs an ended minor; the upgrade that
    cures it must not be refused for the same reason."""
    path = project / "Pulumi.production.yaml"
    nyc3 = '{name: blue, kubernetesVersion: "1.34.5-do.3", weight: 1}'
    path.write_text(f"{path.read_text()}{GENERATIONS_KEY}\n    nyc3:\n      - {nyc3}\n")
    assert upgrade(project, "nyc3", "--to", "1.35", "--step", "add") == 0
    assert "nyc3: added green on 1.35.6-do.0 at weight 0 beside blue on 1.34.5-do.3" in capsys.readouterr().out
