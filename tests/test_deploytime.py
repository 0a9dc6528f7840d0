"""Deploy time: the critical path of a fresh `pulumi up` and of a change, from the plan's
dependency graph and data/deploy-times.yaml. Regions deploy in parallel, so the path must
not grow with their number."""

from __future__ import annotations

import itertools

import pytest
import yaml

from ops import plandoc
from ops.deploytime import (
    TIMES_FILE,
    DependencyCycle,
    TimeTable,
    change_deploy,
    critical_path,
    duration,
    fresh_deploy,
    render_path,
)
from ops.diff import diff_documents
from tests import plandocs
from tests.plandocs import full_stack, real

TABLE = TimeTable.load()


def names(path) -> list[str]:
    return [step.name for step in path.steps if step.seconds]


def test_production_critical_path_does_not_grow_with_regions():
    one = fresh_deploy(real("production", ["nyc3"]))
    five = fresh_deploy(real("production"))
    assert len(plandoc.of_type(real("production"), plandoc.DOKS)) == 5
    assert one.seconds == five.seconds > 0
    # The path runs through a cluster: it is what takes the time.
    assert any(step.type == plandoc.DOKS for step in five.steps)


def test_with_workloads_and_edge_the_path_does_not_grow_with_regions_either():
    one = fresh_deploy(full_stack("production", ["nyc3"]))
    five = fresh_deploy(full_stack("production"))
    assert one.seconds == five.seconds
    # The monitoring chart, installed after the cluster, is the longest branch.
    region = five.steps[0].name.split("-")[0]
    assert names(five) == [f"{region}-vpc", f"{region}-doks", f"{region}-monitoring"]
    timed = [s for s in five.steps if s.seconds]
    assert all(a.finish == b.start for a, b in itertools.pairwise(timed))
    assert five.seconds == sum(s.seconds for s in timed)


def test_traffic_waits_for_cluster_gateway_controller_gateway_pool_and_load_balancer():
    document = full_stack("production")
    document["resources"] = [r for r in document["resources"] if not r["name"].endswith("-monitoring")]
    path = fresh_deploy(document)
    region = path.steps[0].name.split("-")[0]
    # Kubernetes objects wait for their provider, and so for the cluster behind it.
    assert names(path) == [
        f"{region}-vpc",
        f"{region}-doks",
        f"{region}-envoy-gateway",
        f"{region}-proxy",
        f"{region}-gateway",
        f"{region}-pool",
        "edge-lb",
    ]


def test_regions_deployed_one_after_another_would_be_caught():
    # The check above means something: chain the second region behind the first and the
    # path doubles its cluster time.
    document = real("production", ["nyc3", "fra1"])
    first = plandocs.find(document, plandoc.DOKS, "nyc3-doks")
    plandocs.find(document, plandoc.VPC, "fra1-vpc")["dependencies"].append(first["urn"])
    chained = fresh_deploy(document)
    parallel = fresh_deploy(real("production", ["nyc3", "fra1"]))
    assert chained.seconds >= parallel.seconds + TABLE.create_seconds(first)
    assert names(chained)[:3] == ["nyc3-vpc", "nyc3-doks", "fra1-vpc"]


def test_an_ha_control_plane_takes_longer_and_charts_have_their_own_times():
    ha = plandocs.find(real("production"), plandoc.DOKS, "nyc3-doks")
    standard = plandocs.find(real("dev"), plandoc.DOKS, "nyc3-doks")
    assert TABLE.create_seconds(ha) > TABLE.create_seconds(standard) >= 300
    document = full_stack("staging", ["nyc3"])
    monitoring = plandocs.find(document, plandoc.HELM_RELEASE, "nyc3-monitoring")
    envoy = plandocs.find(document, plandoc.HELM_RELEASE, "nyc3-envoy-gateway")
    assert TABLE.create_seconds(monitoring) > TABLE.create_seconds(envoy)
    # Patterns and the default: any Kubernetes object, providers, components, unknown types.
    hpa = plandocs.find(document, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "nyc3-api-hpa")
    assert TABLE.create_seconds(hpa) == TABLE.types["kubernetes:*"]["create"]
    assert TABLE.create_seconds(plandocs.find(document, plandoc.K8S_PROVIDER, "nyc3-k8s")) == 0
    assert TABLE.create_seconds(plandocs.find(document, "marketplace:index:RegionalCluster", "nyc3")) == 0
    assert TABLE.create_seconds({"type": "acme:index:Thing", "custom": True, "inputs": {}}) == TABLE.default


def test_depending_on_a_component_waits_for_its_slowest_child():
    document = real("dev")
    cluster_component = plandocs.find(document, "marketplace:index:RegionalCluster", "nyc3")
    late = plandocs.add(document, "acme:index:Thing", "after-the-region", dependencies=[cluster_component["urn"]])
    path = fresh_deploy(document)
    assert names(path) == ["nyc3-vpc", "nyc3-doks", "after-the-region"]
    assert path.steps[-1].urn == late


def test_a_dependency_cycle_is_named():
    document = real("dev")
    vpc = plandocs.find(document, plandoc.VPC, "nyc3-vpc")
    vpc["dependencies"].append(plandocs.find(document, plandoc.DOKS, "nyc3-doks")["urn"])
    with pytest.raises(DependencyCycle, match=r"nyc3-vpc -> nyc3-doks -> nyc3-vpc|nyc3-doks -> nyc3-vpc -> nyc3-doks"):
        critical_path(document, {})


def test_a_change_only_waits_for_what_it_creates():
    before, after = real("dev"), real("dev", ["nyc3", "fra1"])
    diff = diff_documents(before, after)
    change = change_deploy(after, diff.created)
    assert names(change) == ["fra1-vpc", "fra1-doks"]
    # The fresh path of the grown stack is the same length: the new region runs beside nyc3.
    assert fresh_deploy(after).seconds == fresh_deploy(before).seconds
    # Nothing created, nothing to wait for.
    assert change_deploy(after, set()).seconds == 0


def test_rendering_shows_each_timed_step_with_its_start():
    path = fresh_deploy(real("dev"))
    text = render_path(path, "Fresh deploy")
    assert text.splitlines()[0] == f"Fresh deploy: ~{duration(path.seconds)}"
    assert "+7m 00s" in text and "nyc3-doks" in text
    assert (duration(5), duration(65), duration(3725)) == ("5s", "1m 05s", "1h 02m 05s")


def test_every_time_has_a_source_or_reasoning():
    data = yaml.safe_load(TIMES_FILE.read_text())
    assert data["date"] and data["default"]["reasoning"]
    for type_, entry in data["types"].items():
        assert isinstance(entry["create"], int | float), type_
        assert entry.get("source"), f"{type_} has no source"
        for rule in entry.get("when") or []:
            assert rule.get("source") and rule.get("inputs"), type_
