"""Deploy time: the critical path of a fresh `pulumi up` and of a change, from the real
plans' dependency graph and data/deploy-times.yaml. Regions deploy in parallel, so the
path must not grow with their number."""

from __future__ import annotations

import itertools
import re

import pytest
import yaml

from ops.review import plandoc
from ops.review.deploytime import (
    TIMES_FILE,
    DependencyCycle,
    TimeTable,
    change_deploy,
    critical_path,
    duration,
    fresh_deploy,
    render_path,
)
from ops.review.diff import diff_documents
from tests import plandocs
from tests.plandocs import DEV_TWO_REGIONS, real, upgrade_steps

TABLE = TimeTable.load()
TYPES = TABLE.types
TWO = DEV_TWO_REGIONS["marketplace:regions"]
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def names(path) -> list[str]:
    return [step.name for step in path.steps if step.seconds]


def rule(type_: str, **inputs: object) -> float:
    """A `when` rule's time, read straight from the table."""
    (found,) = (r["create"] for r in TYPES[type_]["when"] if r["inputs"] == inputs)
    return float(found)


def test_production_critical_path_does_not_grow_with_regions():
    # From two regions on: one region alone has no Prometheus for the hub's Grafana to wait for.
    two, five = real("production", ["nyc3", "fra1"]), real("production")
    assert len(plandoc.of_type(two, plandoc.DOKS)) == 2 and len(plandoc.of_type(five, plandoc.DOKS)) == 5
    assert fresh_deploy(two).seconds == fresh_deploy(five).seconds > fresh_deploy(real("production", ["nyc3"])).seconds
    # The longest branch, in every region but the hub alike: an HA cluster, monitoring's
    # namespace and Alertmanager configuration, kube-prometheus-stack, the internal load
    # balancer in front of Prometheus, and the hub Grafana's data sources that need its address.
    path = fresh_deploy(five)
    timed = [s for s in path.steps if s.seconds]
    assert [s.type for s in timed] == [plandoc.VPC, plandoc.DOKS, NAMESPACE, SECRET, plandoc.HELM_RELEASE, SERVICE, CONFIG_MAP]
    region = timed[0].name.split("-")[0]
    assert region != "nyc3"
    assert [s.name for s in timed] == [
        f"{region}-vpc",
        f"{region}-doks",
        f"{region}-monitoring-namespace",
        f"{region}-monitoring-alertmanager-config",
        f"{region}-monitoring-prometheus",
        f"{region}-monitoring-prometheus-internal",
        "nyc3-grafana-datasources",
    ]
    assert all(a.finish == b.start for a, b in itertools.pairwise(timed))
    objects = TYPES["kubernetes:*"]["create"]
    expected = (
        TYPES[plandoc.VPC]["create"]
        + rule(plandoc.DOKS, ha=True)
        + objects * 2
        + rule(plandoc.HELM_RELEASE, chart="kube-prometheus-stack")
        + rule(SERVICE, **{"spec.type": "LoadBalancer"})
        + objects
    )
    assert path.seconds == expected


def test_traffic_waits_for_cluster_crds_controller_gateway_pool_and_load_balancer():
    # Dev runs no monitoring: its longest branch is the one visitors wait for.
    path = fresh_deploy(real("dev"))
    # Kubernetes objects wait for their provider, and so for the cluster behind it.
    assert names(path) == [
        "nyc3-vpc",
        "nyc3-doks",
        "nyc3-gateway-crds",
        "nyc3-gateway-controller",
        "nyc3-gateway-proxy-config",
        "nyc3-gateway-class",
        "nyc3-gateway-gateway",
        "nyc3-pool",
        "edge-lb",
    ]
    objects, cloudflare = TYPES["kubernetes:*"]["create"], TYPES["cloudflare:*"]["create"]
    expected = (
        TYPES[plandoc.VPC]["create"]
        + TYPES[plandoc.DOKS]["create"]
        + TYPES["kubernetes:helm.sh/v4:Chart"]["create"]
        + rule(plandoc.HELM_RELEASE, chart="gateway-helm")
        + objects  # EnvoyProxy
        + objects  # GatewayClass
        + TYPES[plandocs.GATEWAY]["create"]
        + cloudflare  # pool
        + TYPES[plandoc.CF_LOAD_BALANCER]["create"]
    )
    assert path.seconds == expected


def test_regions_deployed_one_after_another_would_be_caught():
    # The check above means something: chain the second region behind the first and the
    # path grows by a whole region.
    document = real("dev", TWO)
    first = plandocs.find(document, plandoc.DOKS, "nyc3-doks")
    plandocs.find(document, plandoc.VPC, "fra1-vpc")["dependencies"].append(first["urn"])
    chained = fresh_deploy(document)
    parallel = fresh_deploy(real("dev", TWO))
    assert chained.seconds >= parallel.seconds + TABLE.seconds(first, "create")
    assert names(chained)[:3] == ["nyc3-vpc", "nyc3-doks", "fra1-vpc"]


def test_an_ha_control_plane_takes_longer_and_charts_have_their_own_times():
    production = real("production", ["nyc3"])
    ha = plandocs.find(production, plandoc.DOKS, "nyc3-doks")
    standard = plandocs.find(real("dev"), plandoc.DOKS, "nyc3-doks")
    assert TABLE.seconds(ha, "create") > TABLE.seconds(standard, "create") >= 300
    monitoring = plandocs.find(production, plandoc.HELM_RELEASE, "nyc3-monitoring-prometheus")
    envoy = plandocs.find(production, plandoc.HELM_RELEASE, "nyc3-gateway-controller")
    assert TABLE.seconds(monitoring, "create") > TABLE.seconds(envoy, "create") > 0
    # Patterns and the default: any Kubernetes object, providers, components, unknown types.
    hpa = plandocs.find(production, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "nyc3-catalog-api-autoscaler")
    assert TABLE.seconds(hpa, "create") == TYPES["kubernetes:*"]["create"]
    assert TABLE.seconds(plandocs.find(production, plandoc.K8S_PROVIDER, "nyc3-k8s"), "create") == 0
    assert TABLE.seconds(plandocs.find(production, "marketplace:index:RegionalCluster", "nyc3"), "create") == 0
    assert TABLE.seconds({"type": "acme:index:Thing", "custom": True, "inputs": {}}, "create") == TABLE.default
    # The CRD chart is a component whose objects the offline plan does not show: it is
    # listed by type and takes its own time, where another component takes none.
    crds = plandocs.find(production, "kubernetes:helm.sh/v4:Chart", "nyc3-gateway-crds")
    assert crds["custom"] is False and not [r for r in production["resources"] if r.get("parent") == crds["urn"]]
    assert TABLE.seconds(crds, "create") == TYPES["kubernetes:helm.sh/v4:Chart"]["create"] > 0


def test_depending_on_a_component_waits_for_its_slowest_child():
    document = real("dev")
    cluster_component = plandocs.find(document, "marketplace:index:RegionalCluster", "nyc3")
    late = plandocs.add(document, "acme:index:Thing", "after-the-region", dependencies=[cluster_component["urn"]])
    path = fresh_deploy(document)
    # The cluster's component holds its gateway and the catalog: its slowest part is a route
    # of the catalog, which waits for the Gateway's load balancer.
    assert names(path)[-3:] == ["nyc3-gateway-gateway", "nyc3-catalog-api-route", "after-the-region"]
    assert path.steps[-1].urn == late


def test_a_dependency_cycle_is_named():
    document = real("dev")
    vpc = plandocs.find(document, plandoc.VPC, "nyc3-vpc")
    vpc["dependencies"].append(plandocs.find(document, plandoc.DOKS, "nyc3-doks")["urn"])
    with pytest.raises(DependencyCycle, match=r"nyc3-vpc -> nyc3-doks -> nyc3-vpc|nyc3-doks -> nyc3-vpc -> nyc3-doks"):
        critical_path(document, {})


def test_a_change_only_waits_for_what_it_creates():
    before, after = real("dev"), real("dev", TWO)
    change = change_deploy(after, diff_documents(before, after).created)
    # The new region's chain up to its pool; the load balancer that gains the pool exists.
    assert names(change) == [
        "fra1-vpc",
        "fra1-doks",
        "fra1-gateway-crds",
        "fra1-gateway-controller",
        "fra1-gateway-proxy-config",
        "fra1-gateway-class",
        "fra1-gateway-gateway",
        "fra1-pool",
    ]
    assert change.seconds == fresh_deploy(before).seconds - TYPES[plandoc.CF_LOAD_BALANCER]["create"]
    # The fresh path of the grown stack is the same length: the new region runs beside nyc3.
    assert fresh_deploy(after).seconds == fresh_deploy(before).seconds
    # An upgrade's canary step creates nothing: nothing to wait for.
    added, canary = upgrade_steps("dev", "nyc3", "1.37", ["add", "canary"], regions=TWO)
    diff = diff_documents(real("dev", TWO, stack_text=added), real("dev", TWO, stack_text=canary))
    assert diff.created == set() and change_deploy(diff.head, diff.created).seconds == 0


def test_a_change_counts_its_updates_and_then_its_deletions_in_reverse_order():
    # Removing fra1: the load balancer and the project are updated first, then fra1's
    # objects go before the cluster they run on, and the VPC only once the cluster is gone.
    before, after = real("dev", TWO), real("dev")
    diff = diff_documents(before, after)
    deleted = {c.urn for c in diff.changes if c.op == "delete"}
    updated = {c.urn for c in diff.changes if c.op == "update"}
    change = change_deploy(after, diff.created, updated=updated, base=before, deleted=deleted)
    assert {plandoc.by_urn(after)[urn]["name"] for urn in updated} == {"edge-lb", "stack-resources"}
    assert change.apply.seconds == max(TABLE.seconds(r, "update") for r in after["resources"] if r["urn"] in updated)
    removal = names(change.removal)
    assert removal[-2:] == ["fra1-doks", "fra1-vpc"] and all(name.startswith("fra1-") for name in removal)
    assert change.removal.seconds == sum(step.seconds for step in change.removal.steps)
    assert change.seconds == change.apply.seconds + change.removal.seconds
    vpc = plandocs.find(before, plandoc.VPC, "fra1-vpc")
    assert TABLE.seconds(vpc, "delete") == TYPES[plandoc.VPC]["delete"] > TABLE.seconds(vpc, "create")
    # A type without a time for an action takes the default's.
    assert TABLE.seconds({"type": "example:index/thing:Thing", "inputs": {}}, "update") == TABLE.defaults["update"]


def test_rendering_shows_each_timed_step_with_its_start():
    path = fresh_deploy(real("dev"))
    text = render_path(path, "Fresh deploy")
    assert text.splitlines()[0] == f"Fresh deploy: ~{duration(path.seconds)}"
    doks = next(line for line in text.splitlines() if " nyc3-doks " in line)
    start, took = duration(TYPES[plandoc.VPC]["create"]), duration(TYPES[plandoc.DOKS]["create"])
    assert re.match(rf"^    at +{start}  \+{took} +nyc3-doks +{re.escape(plandoc.DOKS)}$", doks)
    assert (duration(5), duration(65), duration(3725)) == ("5s", "1m 05s", "1h 02m 05s")


def test_every_time_has_a_source_or_reasoning():
    data = yaml.safe_load(TIMES_FILE.read_text())
    assert data["date"] and data["default"]["reasoning"]
    for type_, entry in data["types"].items():
        assert isinstance(entry["create"], int | float), type_
        assert entry.get("source"), f"{type_} has no source"
        for when in entry.get("when") or []:
            assert when.get("source") and when.get("inputs"), type_
