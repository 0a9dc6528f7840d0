"""One pane per stack: one Grafana, on the hub cluster, with every cluster's Prometheus as a
data source, the repository's dashboards, and VPC peering from the hub to every region."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring import PROMETHEUS_IN_CLUSTER_URL
from components.pane import DASHBOARDS_DIR, dashboards, datasource_name
from offline.engine import Plan, reveal
from tests.conftest import plan_error, plan_of
from tests.k8s_objects import metadata, objects, regions_of

PEERING = "digitalocean:index/vpcPeering:VpcPeering"
RELEASE = "kubernetes:helm.sh/v3:Release"


def grafana_enabled(plan: Plan) -> list[str]:
    """The clusters whose kube-prometheus-stack runs Grafana."""
    return sorted(
        plan.region_of(r, dict.fromkeys(regions_of(plan))) or "?"
        for r in plan.of_type(RELEASE)
        if r.inputs["chart"] == "kube-prometheus-stack" and r.inputs["values"]["grafana"]["enabled"]
    )


def provisioned(plan: Plan, region: str) -> dict[str, Any]:
    [config_map] = [c for c in objects(plan, region, "ConfigMap") if metadata(c)["name"] == "marketplace-datasources"]
    assert metadata(config_map)["labels"] == {"grafana_datasource": "1"}
    loaded: dict[str, Any] = yaml.safe_load(reveal(config_map.inputs["data"])["marketplace-datasources.yaml"])
    return loaded


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_one_grafana_per_stack_sees_every_cluster(stack: str) -> None:
    plan = plan_of(stack)
    assert grafana_enabled(plan) == ["nyc3"]
    sources = provisioned(plan, "nyc3")["datasources"]
    assert [s["name"] for s in sources] == [datasource_name(region) for region in sorted(regions_of(plan))]
    by_name = {s["name"]: s for s in sources}
    # The hub's own Prometheus in the cluster; the others on their internal load balancers.
    assert by_name["prometheus-nyc3"]["url"] == PROMETHEUS_IN_CLUSTER_URL
    assert by_name["prometheus-nyc3"]["isDefault"] is True
    for region in set(regions_of(plan)) - {"nyc3"}:
        [service] = [s for s in objects(plan, region, "Service") if metadata(s)["name"] == "prometheus-internal"]
        address = service.outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
        assert by_name[datasource_name(region)]["url"] == f"http://{address}:9090"
        assert by_name[datasource_name(region)]["isDefault"] is False


def test_the_hub_is_peered_with_every_other_region() -> None:
    plan = plan_of("production")
    vpcs = {r.name.removesuffix("-vpc"): r.id for r in plan.of_type("digitalocean:index/vpc:Vpc")}
    peerings = {tuple(p.inputs["vpcIds"]) for p in plan.of_type(PEERING)}
    assert peerings == {(vpcs["nyc3"], vpcs[region]) for region in ("sfo3", "fra1", "blr1", "sgp1")}
    names = [p.inputs["name"] for p in plan.of_type(PEERING)]
    assert len(set(names)) == 4 and all(name.startswith("mkt-production-nyc3-") for name in names)


def test_observability_region_moves_grafana_and_its_peerings() -> None:
    # Two regions with everything on: the smallest plan that has a hub to move.
    moved = {
        "marketplace:regions": ["nyc3", "fra1"],
        "marketplace:monitoring": True,
        "marketplace:logStore": {"enabled": True},
        "marketplace:observabilityRegion": "fra1",
    }
    plan = plan_of("dev", overrides=moved)
    assert grafana_enabled(plan) == ["fra1"]
    [default] = [s for s in provisioned(plan, "fra1")["datasources"] if s["isDefault"]]
    assert (default["name"], default["url"]) == ("prometheus-fra1", PROMETHEUS_IN_CLUSTER_URL)
    assert [p.inputs["name"] for p in plan.of_type(PEERING)] == ["mkt-dev-fra1-nyc3"]
    assert plan.one("digitalocean:index/databaseCluster:DatabaseCluster", "logs-opensearch").inputs["region"] == "fra1"


def test_dev_stacks_have_no_pane_unless_they_monitor() -> None:
    assert grafana_enabled(plan_of("dev")) == []
    assert plan_of("dev").of_type("marketplace:index:MetricsPane") == []
    plan = plan_of("dev", overrides={"marketplace:monitoring": True})
    assert grafana_enabled(plan) == ["nyc3"]
    assert [s["name"] for s in provisioned(plan, "nyc3")["datasources"]] == ["prometheus-nyc3"]
    assert plan.of_type(PEERING) == []


def test_every_dashboard_file_is_provisioned_to_the_hub() -> None:
    plan = plan_of("production")
    [found] = [c for c in objects(plan, "nyc3", "ConfigMap") if metadata(c).get("labels") == {"grafana_dashboard": "1"}]
    files = dashboards()
    assert set(files) == {"overview.json", "catalog.json", "gateway.json", "nodes.json"}
    assert found.inputs["data"] == files
    assert metadata(found)["annotations"] == {"grafana_folder": "Marketplace"}
    for region in ("sfo3", "fra1"):
        assert not [c for c in objects(plan, region, "ConfigMap") if metadata(c).get("labels") == {"grafana_dashboard": "1"}]


def test_a_bad_dashboard_file_stops_the_program_before_anything_is_declared(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "dashboards"
    folder.mkdir(parents=True)
    for path in DASHBOARDS_DIR.glob("*.json"):
        (folder / path.name).write_text(path.read_text())
    (folder / "broken.json").write_text('{"title": "half a file",')
    monkeypatch.setattr("components.pane.DASHBOARDS_DIR", folder)
    assert plan_error("dev", overrides={"marketplace:monitoring": True}).startswith(
        "data/dashboards/broken.json is not valid JSON: "
    )


# --- the dashboard files ------------------------------------------------------------------


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("path", sorted(DASHBOARDS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_each_dashboard_shows_every_region_it_is_given(path: Any) -> None:
    dashboard = json.loads(path.read_text())
    [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    # The variable lists exactly the data sources the pane provisions, all selected.
    pattern = re.compile(variable["regex"].strip("/"))
    assert pattern.fullmatch(datasource_name("fra1")) and not pattern.fullmatch("Alertmanager")
    assert variable["multi"] and variable["includeAll"] and variable["current"]["value"] == ["$__all"]
    for panel in all_panels(dashboard):
        assert panel["targets"], f"{panel['title']} queries nothing"
        uid = panel["datasource"]["uid"]
        if uid == "-- Mixed --":
            # The global view: each query fans out to every selected region.
            assert {t["datasource"]["uid"] for t in panel["targets"]} == {"${datasource}"}, panel["title"]
        else:
            # Side by side: one copy of the panel per region.
            assert uid == "${datasource}" and panel["repeat"] == "datasource", panel["title"]


def test_dashboards_have_unique_identities_and_the_overview_has_a_global_view() -> None:
    loaded = [json.loads(text) for text in dashboards().values()]
    assert len({d["uid"] for d in loaded}) == len({d["title"] for d in loaded}) == len(loaded)
    overview = next(d for d in loaded if d["uid"] == "marketplace-overview")
    mixed = [p["title"] for p in all_panels(overview) if p["datasource"]["uid"] == "-- Mixed --"]
    assert "Clusters reporting" in mixed and any("stacked by region" in title for title in mixed)
    repeated = [p for p in all_panels(overview) if p.get("repeat") == "datasource"]
    assert repeated and all(p["repeatDirection"] == "h" and p["maxPerRow"] == 5 for p in repeated)
