"""Regional clusters: one VPC, one VPC-native DOKS cluster and one provider per region."""

from __future__ import annotations

import ipaddress
import json

from components.network import cluster_network
from components.regions import REGIONS
from offline.engine import Plan, SecretValue, reveal
from offline.stack_config import stand_in
from tests.conftest import plan_error, plan_of

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
NODE_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
VPC = "digitalocean:index/vpc:Vpc"
PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
COMPONENT = "marketplace:index:RegionalCluster"
# The version the stack files pin, and the next minor's newest slug the data file knows.
PINNED = "1.36.1-do.0"
NEXT = "1.37.1-do.0"


def by_region(plan: Plan, type_: str) -> dict[str, dict]:
    return {plan.region_of(r, REGIONS) or "": r.inputs for r in plan.of_type(type_)}


def test_production_has_five_regional_clusters_each_with_vpc_and_provider():
    plan = plan_of("production")
    regions = {"sfo3", "nyc3", "fra1", "blr1", "sgp1"}
    assert {r.name for r in plan.of_type(COMPONENT)} == regions
    for type_ in (CLUSTER, VPC, PROVIDER):
        assert set(by_region(plan, type_)) == regions, type_
    for component in plan.of_type(COMPONENT):
        children = {r.type for r in plan.resources if r.parent == component.urn and r.custom}
        assert children == {CLUSTER, NODE_POOL, PROVIDER, RELEASE}
    for component in plan.of_type("marketplace:index:RegionVpc"):
        assert [r.type for r in plan.resources if r.parent == component.urn] == [VPC]


def test_cluster_settings_in_production():
    plan = plan_of("production")
    for region, inputs in by_region(plan, CLUSTER).items():
        network = cluster_network(0, REGIONS[region].slot)
        assert inputs["region"] == region
        assert inputs["name"] == f"mkt-production-{region}"
        assert inputs["version"] == PINNED, "exactly the version the stack file pins"
        assert inputs["ha"] is True and inputs["autoUpgrade"] is False and inputs["surgeUpgrade"] is True
        assert inputs["maintenancePolicy"] == {"day": "sunday", "startTime": "04:00"}
        assert inputs["controlPlaneFirewall"] == {"enabled": True, "allowedAddresses": ["203.0.113.0/24"]}
        assert (inputs["clusterSubnet"], inputs["serviceSubnet"]) == (network.pods, network.services)
        assert inputs["registryIntegration"] is True
        system = inputs["nodePool"]
        assert system["autoScale"] is True and (system["minNodes"], system["maxNodes"]) == (2, 3)
        assert system["size"] == "s-2vcpu-4gb" and system["labels"] == {"marketplace/pool": "system"}
        assert f"marketplace-region-{region}" in inputs["tags"]
    for pool in plan.of_type(NODE_POOL):
        inputs = pool.inputs
        assert inputs["autoScale"] is True and (inputs["minNodes"], inputs["maxNodes"]) == (3, 10)
        assert inputs["size"] == "s-4vcpu-8gb" and inputs["name"].endswith("-s-4vcpu-8gb")
        assert inputs["labels"] == {"marketplace/pool": "workers"}


def test_cluster_is_in_its_own_regions_vpc():
    plan = plan_of("production")
    vpcs = {plan.region_of(r, REGIONS): r for r in plan.of_type(VPC)}
    for cluster in plan.of_type(CLUSTER):
        region = plan.region_of(cluster, REGIONS)
        assert region is not None
        vpc = vpcs[region]
        assert cluster.inputs["vpcUuid"] == vpc.id
        assert vpc.urn in cluster.dependencies
        assert vpc.inputs["region"] == region


def test_subnets_never_overlap_within_a_stack():
    plan = plan_of("production")
    ranges = [ipaddress.ip_network(r.inputs["ipRange"]) for r in plan.of_type(VPC)]
    for cluster in plan.of_type(CLUSTER):
        ranges += [ipaddress.ip_network(cluster.inputs["clusterSubnet"]), ipaddress.ip_network(cluster.inputs["serviceSubnet"])]
    assert len(ranges) == 15
    for i, a in enumerate(ranges):
        for b in ranges[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"


def test_kubeconfig_is_secret_and_uses_the_long_lived_token_not_the_7_day_one():
    plan = plan_of("production")
    token = stand_in("digitalocean:token")
    for provider in plan.of_type(PROVIDER):
        assert isinstance(provider.inputs["kubeconfig"], SecretValue)
        config = json.loads(reveal(provider.inputs["kubeconfig"]))
        region = plan.region_of(provider, REGIONS)
        cluster = next(c for c in plan.of_type(CLUSTER) if plan.region_of(c, REGIONS) == region)
        assert config["users"][0]["user"] == {"token": token}
        assert config["clusters"][0]["cluster"]["server"] == cluster.outputs["endpoint"]
        assert "dop_v1_offline" not in reveal(provider.inputs["kubeconfig"]), "the 7-day token must not be used"
        assert provider.inputs["deleteUnreachable"] == "true"
    assert all(isinstance(value, SecretValue) for value in plan.outputs["kubeconfigs"].values())


def test_every_kubernetes_resource_names_an_explicit_provider(stack_plan: Plan):
    providers = {r.urn for r in stack_plan.of_type(PROVIDER)}
    for resource in stack_plan.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider_urn in providers, f"{resource.name} would use a default provider"


def test_dev_is_small_and_not_ha():
    plan = plan_of("dev")
    (inputs,) = by_region(plan, CLUSTER).values()
    assert inputs["ha"] is False
    assert inputs["nodePool"]["nodeCount"] == 1 and inputs["nodePool"]["autoScale"] is False
    (workers,) = by_region(plan, NODE_POOL).values()
    assert (workers["minNodes"], workers["maxNodes"]) == (1, 2)


def test_a_minor_the_version_table_does_not_know_is_refused():
    message = plan_error("dev", overrides={"marketplace:kubernetesVersion": "1.40.1-do.0"})
    assert message == (
        "stack 'dev': config 'marketplace:kubernetesVersion': blue in nyc3 runs 1.40.1-do.0: Kubernetes 1.40 is not in "
        "data/kubernetes-versions.yaml (known: 1.33, 1.34, 1.35, 1.36, 1.37)"
    )


def test_production_clusters_are_protected_and_keep_their_version_and_node_count():
    for stack, protected in (("production", True), ("staging", False), ("dev", False)):
        for cluster in plan_of(stack).of_type(CLUSTER):
            assert cluster.protect is protected, (stack, cluster.name)
            assert set(cluster.ignore_changes) == {"version", "nodePool.nodeCount"}


def test_vpcs_are_replaced_delete_first_and_wait_for_their_clusters():
    plan = plan_of("production")
    for vpc in plan.of_type(VPC):
        assert vpc.delete_before_replace, vpc.name
        assert vpc.custom_timeouts == {"delete": "30m"}, vpc.name


def test_metrics_server_is_on_every_cluster_and_every_autoscaler_waits_for_it():
    from components.cluster import METRICS_SERVER_REPO, METRICS_SERVER_VERSION

    for stack in ("production", "dev"):
        plan = plan_of(stack)
        servers = {r.urn: r for r in plan.of_type(RELEASE) if r.inputs["name"] == "metrics-server"}
        assert len(servers) == len(plan.of_type(CLUSTER))
        for server in servers.values():
            assert (server.inputs["chart"], server.inputs["version"]) == ("metrics-server", METRICS_SERVER_VERSION)
            assert server.inputs["repositoryOpts"] == {"repo": METRICS_SERVER_REPO}
            assert server.inputs["namespace"] == "kube-system"
            assert server.inputs["values"]["apiService"] == {"create": True}
        autoscalers = plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
        assert autoscalers
        for autoscaler in autoscalers:
            (server_urn,) = (urn for urn in autoscaler.dependencies if urn in servers)
            assert servers[server_urn].provider_urn == autoscaler.provider_urn, "the metrics-server of its own cluster"


# --- generations: blue and green side by side in a region during an upgrade -----------

TWO_IN_NYC3 = {
    "marketplace:generations": {
        "nyc3": [
            {"name": "blue", "kubernetesVersion": PINNED, "weight": 1},
            {"name": "green", "kubernetesVersion": NEXT, "weight": 0.1},
        ]
    }
}


def clusters_by_name(plan):
    return {r.name: r for r in plan.of_type(CLUSTER)}


def test_two_generations_plan_two_clusters_in_one_region_and_leave_the_others_unchanged():
    before = plan_of("production")
    after = plan_of("production", overrides=TWO_IN_NYC3)
    added = set(clusters_by_name(after)) - set(clusters_by_name(before))
    assert added == {"nyc3-green-doks"}
    green = clusters_by_name(after)["nyc3-green-doks"]
    blue = clusters_by_name(after)["nyc3-doks"]
    assert green.inputs["version"] == NEXT and blue.inputs["version"] == PINNED
    assert green.inputs["vpcUuid"] == blue.inputs["vpcUuid"], "both generations share the region's VPC"
    assert green.inputs["clusterSubnet"] != blue.inputs["clusterSubnet"]
    assert after.region_of(green, REGIONS) == "nyc3"
    (pool,) = (r for r in after.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool") if r.name == "nyc3-pool")
    origins = {name: detail["origin"] for name, detail in after.outputs["generations"]["nyc3"].items()}
    assert [(o["name"], o["address"], o["weight"]) for o in pool.inputs["origins"]] == [
        ("nyc3", origins["blue"], 1),
        ("nyc3-green", origins["green"], 0.1),
    ]
    assert origins["blue"] != origins["green"]
    # Outputs keyed by region name the serving generation: blue, which takes 1 against 0.1.
    assert after.outputs["origins"]["nyc3"] == origins["blue"] and "nyc3-green" not in after.outputs["origins"]
    assert pool.inputs["originSteering"] == {"policy": "random"}, "weights split a region's traffic"
    # What lists every cluster: the region's pool, the project, the log store's firewall and
    # Grafana's data sources.
    changed = {"nyc3-pool", "stack-resources", "logs-firewall", "nyc3-grafana-datasources"}
    now = {r.urn: r.inputs for r in after.resources}
    for resource in before.resources:
        if resource.name not in changed:
            assert now[resource.urn] == resource.inputs, f"{resource.urn} changed"


def test_declaring_blue_alone_renames_and_changes_nothing():
    plain = plan_of("production")
    declared = plan_of(
        "production",
        overrides={"marketplace:generations": {"fra1": [{"name": "blue", "kubernetesVersion": PINNED, "weight": 1}]}},
    )
    assert {r.urn: r.inputs for r in plain.resources} == {r.urn: r.inputs for r in declared.resources}


def test_green_alone_after_blue_is_retired_keeps_the_region_serving():
    plan = plan_of(
        "dev", overrides={"marketplace:generations": {"nyc3": [{"name": "green", "kubernetesVersion": NEXT, "weight": 1}]}}
    )
    assert set(clusters_by_name(plan)) == {"nyc3-green-doks"}


def test_the_serving_cluster_of_a_region_is_its_heaviest_generation():
    from components.cluster import ClusterSpec, serving_clusters

    def spec(region: str, generation: str, weight: float) -> ClusterSpec:
        return ClusterSpec(region, generation, "1.36.1-do.0", "s-2vcpu-4gb", None, weight, False)  # type: ignore[arg-type]

    specs = {
        "nyc3": spec("nyc3", "blue", 0.9),
        "nyc3-green": spec("nyc3", "green", 0.1),
        "fra1": spec("fra1", "blue", 0),
        "fra1-green": spec("fra1", "green", 1),
        "sfo3": spec("sfo3", "blue", 0.5),
        "sfo3-green": spec("sfo3", "green", 0.5),
    }
    # On a tie, the generation declared first: the one that was there.
    assert serving_clusters(specs) == {"nyc3": "nyc3", "fra1": "fra1-green", "sfo3": "sfo3"}
