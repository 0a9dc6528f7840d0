"""Each policy on hand-built resources: a good one passes, a bad one fails with its message.

Arguments are built the way the SDK builds them from the engine's request (policy/offline.py):
numbers as floats, nested values as read-only proxies, unknowns raising on access.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from pulumi_policy import Policy, ResourceValidationPolicy

from offline.engine import UNKNOWN
from policy import clusters, cost, edge, storage, workloads
from policy.common import kind_of, stack_of
from policy.offline import cluster_provider, policy_resource, reported, resource_args, stack_args
from policy.pack import POLICIES
from tests import policy_fixtures as fx

CLUSTER = clusters.CLUSTER
BUCKET = storage.BUCKET


def cluster(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "region": "nyc3",
        "ha": True,
        "surgeUpgrade": True,
        "maintenancePolicy": {"day": "sunday", "startTime": "04:00"},
        "controlPlaneFirewall": {"enabled": True, "allowedAddresses": ["203.0.113.0/24"]},
        "nodePool": {"name": "default", "size": "s-4vcpu-8gb", "autoScale": True, "minNodes": 3, "maxNodes": 10},
        "tags": ["marketplace", "marketplace-kind-production"],
    }
    props.update(changes)
    return props


def bucket(**changes: Any) -> dict[str, Any]:
    return {"region": "nyc3", "acl": "private", "versioning": {"enabled": True}, **changes}


def edit(props: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(props)
    change(copied)
    return copied


def pod(props: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = props["spec"]["template"]["spec"]
    return spec


def web(props: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod(props)["containers"][0]
    return first


def check(policy: Policy, type_: str, props: dict[str, Any], stack: str = "production", **kwargs: Any) -> list[str]:
    return reported(policy, resource_args(type_, props, stack=stack, **kwargs))


# --- the stack kind -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "kind"),
    [("production", "production"), ("staging", "staging"), ("dev", "dev"), ("dev-alice", "dev"), ("prod", "production")],
)
def test_the_kind_comes_from_the_urn_and_unknown_names_get_production_rules(stack: str, kind: str):
    urn = f"urn:pulumi:{stack}::marketplace::marketplace:index:RegionalCluster${CLUSTER}::nyc3-doks"
    assert stack_of(urn) == stack
    assert kind_of(urn) == kind


# --- resource policies: (policy, type, good, bad, stack, expected message fragment) ----------

DEPLOYMENT = fx.deployment()


class Case(NamedTuple):
    policy: Policy
    type_: str
    good: dict[str, Any]
    bad: dict[str, Any]
    stack: str
    message: str


RESOURCE_CASES = [
    Case(*case)
    for case in [
        (
            clusters.control_plane_firewall,
            CLUSTER,
            cluster(),
            cluster(controlPlaneFirewall={"enabled": False, "allowedAddresses": []}),
            "dev",
            "the control-plane firewall is off",
        ),
        (
            clusters.control_plane_firewall,
            CLUSTER,
            cluster(),
            cluster(controlPlaneFirewall={"enabled": True, "allowedAddresses": []}),
            "staging",
            "the control-plane firewall allows no address",
        ),
        (
            clusters.control_plane_firewall,
            CLUSTER,
            cluster(),
            cluster(controlPlaneFirewall={"enabled": True, "allowedAddresses": ["0.0.0.0/0"]}),
            "production",
            "allow-list entry 0.0.0.0/0 admits every address; production must list its networks",
        ),
        (
            clusters.ha_control_plane,
            CLUSTER,
            cluster(),
            cluster(ha=False),
            "production",
            "production clusters need an HA control plane",
        ),
        (clusters.surge_upgrade, CLUSTER, cluster(), cluster(surgeUpgrade=False), "production", "need surge_upgrade=True"),
        (
            clusters.maintenance_window,
            CLUSTER,
            cluster(),
            cluster(maintenancePolicy=None),
            "production",
            "need a maintenance window",
        ),
        (
            clusters.production_autoscaling,
            CLUSTER,
            cluster(),
            cluster(nodePool={"size": "s-4vcpu-8gb", "autoScale": True, "minNodes": 1, "maxNodes": 3}),
            "production",
            "the node pool may shrink to 1 node(s); production needs min_nodes >= 2",
        ),
        (
            clusters.production_autoscaling,
            clusters.NODE_POOL,
            {"size": "s-4vcpu-8gb", "autoScale": True, "minNodes": 2, "maxNodes": 4},
            {"size": "s-4vcpu-8gb", "nodeCount": 3},
            "production",
            "the node pool does not autoscale",
        ),
        (
            storage.private_acl,
            BUCKET,
            bucket(),
            bucket(acl="public-read"),
            "dev",
            "the bucket has acl 'public-read': set acl='private'",
        ),
        (storage.private_acl, BUCKET, bucket(), {"region": "nyc3"}, "dev", "the bucket has no acl"),
        (storage.production_versioning, BUCKET, bucket(), bucket(versioning={"enabled": False}), "production", "versioning"),
        (
            workloads.probes,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d).pop("readinessProbe")),
            "staging",
            "Deployment catalog/catalog-web: container 'web' has no readinessProbe",
        ),
        (
            workloads.probes,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d).pop("livenessProbe")),
            "dev",
            "container 'web' has no livenessProbe",
        ),
        (
            workloads.resources,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["resources"].pop("limits")),
            "dev",
            "container 'web' sets no cpu limit (resources.limits.cpu)",
        ),
        (
            workloads.resources,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: pod(d).update(initContainers=[{**fx.container("migrate"), "resources": {}}])),
            "dev",
            "init container 'migrate' sets no memory request",
        ),
        (
            workloads.non_root,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(runAsNonRoot=False)),
            "dev",
            "container 'web' may run as root",
        ),
        (
            workloads.non_root,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(runAsUser=0)),
            "dev",
            "container 'web' runs as user 0 (root)",
        ),
        (
            workloads.read_only_root,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].pop("readOnlyRootFilesystem")),
            "dev",
            "container 'web' can write its root filesystem",
        ),
        (
            workloads.no_escalation,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].pop("allowPrivilegeEscalation")),
            "dev",
            "container 'web' may gain privileges",
        ),
        (
            workloads.no_escalation,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(privileged=True)),
            "dev",
            "container 'web' is privileged",
        ),
        (
            workloads.capabilities,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(capabilities={"drop": ["NET_RAW"]})),
            "dev",
            "keeps the runtime's default capabilities",
        ),
        (
            workloads.capabilities,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]})),
            "dev",
            "adds capabilities SYS_ADMIN",
        ),
        (
            workloads.seccomp,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: pod(d)["securityContext"].pop("seccompProfile")),
            "dev",
            "container 'web' runs with no seccomp profile (Unconfined)",
        ),
        (
            workloads.seccomp,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["securityContext"].update(seccompProfile={"type": "Unconfined"})),
            "dev",
            "seccomp profile 'Unconfined'",
        ),
        (
            workloads.pinned_images,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d).update(image="registry.digitalocean.com/marketplace/catalog-web:latest")),
            "dev",
            "uses the moving tag 'latest'",
        ),
        (
            workloads.pinned_images,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d).update(image="registry.example.com:5000/catalog-web")),
            "dev",
            "has no tag, which means 'latest'",
        ),
        (
            workloads.pinned_images,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d).update(image="nginx:1.27-alpine")),
            "dev",
            "uses the tag '1.27-alpine', which can move",
        ),
        (
            workloads.host_namespaces,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: pod(d).update(hostNetwork=True)),
            "dev",
            "the pod sets hostNetwork",
        ),
        (
            workloads.host_namespaces,
            fx.DEPLOYMENT,
            DEPLOYMENT,
            edit(DEPLOYMENT, lambda d: web(d)["ports"][0].update(hostPort=8080)),
            "dev",
            "container 'web' binds hostPort 8080",
        ),
        (
            workloads.helm_chart_pinned,
            fx.HELM_RELEASE,
            fx.helm_release(),
            edit(fx.helm_release(), lambda r: r.pop("version")),
            "dev",
            "installs chart 'oci://docker.io/envoyproxy/gateway-helm' without a version",
        ),
        (
            edge.pool_monitored,
            fx.POOL,
            fx.pool(),
            edit(fx.pool(), lambda p: p.pop("monitor")),
            "production",
            "has no health monitor",
        ),
        (
            edge.fallback_pool,
            fx.LOAD_BALANCER,
            fx.load_balancer(),
            edit(fx.load_balancer(), lambda lb: lb.pop("fallbackPool")),
            "production",
            "has no fallback_pool",
        ),
        (
            edge.fallback_pool,
            fx.LOAD_BALANCER,
            fx.load_balancer(),
            edit(fx.load_balancer(), lambda lb: lb.update(defaultPools=[])),
            "production",
            "has no default_pools",
        ),
        (
            edge.origins_cloudflare_only,
            fx.ENVOY_PROXY,
            fx.envoy_proxy(),
            fx.envoy_proxy(ranges=[]),
            "production",
            "EnvoyProxy gateway/catalog-proxy sets no spec.provider.kubernetes.envoyService.loadBalancerSourceRanges",
        ),
        (
            edge.origins_cloudflare_only,
            fx.ENVOY_PROXY,
            fx.envoy_proxy(),
            fx.envoy_proxy(ranges=[*fx.CLOUDFLARE_RANGES, "0.0.0.0/0"]),
            "production",
            "entry 0.0.0.0/0 admits every address; only Cloudflare's ranges may reach an origin",
        ),
        (
            edge.origins_cloudflare_only,
            fx.ENVOY_PROXY,
            fx.envoy_proxy(),
            fx.envoy_proxy(ranges=["::/0"]),
            "production",
            "entry ::/0 admits every address",
        ),
        (
            edge.origins_cloudflare_only,
            fx.SERVICE,
            edit(fx.service(), lambda s: s["spec"].update(type="LoadBalancer", loadBalancerSourceRanges=fx.CLOUDFLARE_RANGES)),
            edit(fx.service(), lambda s: s["spec"].update(type="LoadBalancer")),
            "dev",
            "Service catalog/catalog-web sets no spec.loadBalancerSourceRanges",
        ),
        (
            edge.client_certificates,
            fx.CLIENT_TRAFFIC_POLICY,
            fx.client_traffic_policy(),
            edit(fx.client_traffic_policy(), lambda p: p["spec"].pop("tls")),
            "production",
            "validates no client certificate",
        ),
        (
            edge.client_certificates,
            fx.CLIENT_TRAFFIC_POLICY,
            fx.client_traffic_policy(),
            edit(fx.client_traffic_policy(), lambda p: p["spec"]["tls"]["clientValidation"].update(optional=True)),
            "production",
            "makes the client certificate optional",
        ),
    ]
]


@pytest.mark.parametrize("case", RESOURCE_CASES, ids=[f"{case.policy.name}-{i}" for i, case in enumerate(RESOURCE_CASES)])
def test_a_good_resource_passes_and_a_bad_one_fails_with_its_message(case: Case):
    assert check(case.policy, case.type_, case.good, case.stack) == []
    messages = check(case.policy, case.type_, case.bad, case.stack)
    assert any(case.message in m for m in messages), messages


def test_production_buckets_are_protected():
    assert check(storage.production_protect, BUCKET, bucket(), "production", protect=True) == []
    assert check(storage.production_protect, BUCKET, bucket(), "production", protect=False) == [
        "production buckets are protected (ResourceOptions(protect=True)): `pulumi destroy` must not empty them"
    ]
    assert check(storage.production_protect, BUCKET, bucket(), "dev-alice", protect=False) == []


@pytest.mark.parametrize("stack", ["staging", "dev", "dev-alice"])
def test_production_only_rules_leave_other_stacks_alone(stack: str):
    relaxed = cluster(
        ha=False,
        surgeUpgrade=False,
        maintenancePolicy=None,
        nodePool={"size": "s-2vcpu-4gb", "autoScale": True, "minNodes": 1, "maxNodes": 2},
    )
    for policy in (
        clusters.ha_control_plane,
        clusters.surge_upgrade,
        clusters.maintenance_window,
        clusters.production_autoscaling,
    ):
        assert check(policy, CLUSTER, relaxed, stack) == [], policy.name
    assert check(storage.production_versioning, BUCKET, bucket(versioning={"enabled": False}), stack) == []


def test_a_policy_ignores_resources_of_other_types():
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            assert check(policy, "digitalocean:index/vpc:Vpc", {"region": "nyc3", "ipRange": "10.0.0.0/24"}) == [], policy.name


def test_numbers_arrive_as_floats_and_still_compare():
    args = resource_args(CLUSTER, cluster())
    assert args.props["nodePool"]["minNodes"] == 3.0 and isinstance(args.props["nodePool"]["minNodes"], float)
    assert not isinstance(args.props["nodePool"], dict), "policies must test Mapping, not dict"
    assert reported(clusters.production_autoscaling, args) == []


def test_values_unknown_during_preview_count_as_set():
    # A first preview knows neither the pool's monitor id nor the load balancer's pool ids.
    assert check(edge.pool_monitored, fx.POOL, {**fx.pool(), "monitor": UNKNOWN}) == []
    assert (
        check(edge.fallback_pool, fx.LOAD_BALANCER, {**fx.load_balancer(), "fallbackPool": UNKNOWN, "defaultPools": UNKNOWN})
        == []
    )
    unknown_image = edit(DEPLOYMENT, lambda d: web(d).update(image=UNKNOWN))
    assert check(workloads.pinned_images, fx.DEPLOYMENT, unknown_image) == []


def test_every_workload_kind_is_read_from_its_pod_template():
    template = DEPLOYMENT["spec"]["template"]
    bad_template = edit(template, lambda t: t["spec"]["containers"][0].update(image="nginx"))
    shapes = {
        "kubernetes:apps/v1:StatefulSet": {"spec": {"template": bad_template}},
        "kubernetes:apps/v1:DaemonSet": {"spec": {"template": bad_template}},
        "kubernetes:core/v1:Pod": {"spec": bad_template["spec"]},
        "kubernetes:batch/v1:Job": {"spec": {"template": bad_template}},
        "kubernetes:batch/v1:CronJob": {"spec": {"jobTemplate": {"spec": {"template": bad_template}}}},
    }
    for type_, props in shapes.items():
        props["metadata"] = {"name": "x", "namespace": "catalog"}
        assert any("has no tag" in m for m in check(workloads.pinned_images, type_, props)), type_
    job = {
        "metadata": {"name": "x"},
        "spec": {"template": edit(template, lambda t: t["spec"]["containers"][0].pop("livenessProbe"))},
    }
    assert check(workloads.probes, "kubernetes:batch/v1:Job", job) == [], "a Job's pod ends by design: no probes asked"


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("registry.digitalocean.com/marketplace/catalog-web:1.0.0", True),
        ("docker.io/envoyproxy/envoy:v1.33.2", True),
        ("ghcr.io/acme/api:sha-3f9c2ab", True),
        ("ghcr.io/acme/api@sha256:" + "a" * 64, True),
        ("ghcr.io/acme/api:1.0.0@sha256:" + "b" * 64, True),
        ("nginx", False),
        ("nginx:latest", False),
        ("nginx:stable", False),
        ("redis:7", False),
        ("registry:5000/app", False),
        ("ghcr.io/acme/api@sha256:short", False),
    ],
)
def test_pinned_means_a_digest_or_a_tag_naming_one_build(image: str, pinned: bool):
    assert (workloads.image_problem(image) is None) == pinned


# --- stack policies -----------------------------------------------------------------------


def on_cluster(*objects: tuple[str, str, dict[str, Any]], region: str = "nyc3", stack: str = "production") -> list[Any]:
    provider = cluster_provider(stack, region)
    return [policy_resource(type_, props, stack=stack, name=name, provider=provider) for type_, name, props in objects]


def catalog(**replace: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    objects = {
        "deployment": (fx.DEPLOYMENT, "catalog-web", fx.deployment()),
        "hpa": (fx.HPA, "catalog-web-hpa", fx.hpa()),
        "pdb": (fx.PDB, "catalog-web-pdb", fx.pdb()),
        "deny": (fx.NETWORK_POLICY, "default-deny", fx.default_deny()),
    }
    for key, props in replace.items():
        objects[key] = (objects[key][0], objects[key][1], props)
    return list(objects.values())


def stack_check(policy: Policy, resources: list[Any], config: dict[str, Any] | None = None) -> list[str]:
    return reported(policy, stack_args(resources, config))


def test_each_deployment_has_an_hpa_and_a_pdb_on_its_own_cluster():
    assert stack_check(workloads.pdb_and_hpa, on_cluster(*catalog())) == []
    without_hpa = [r for r in on_cluster(*catalog()) if r.resource_type != fx.HPA]
    assert stack_check(workloads.pdb_and_hpa, without_hpa) == [
        "Deployment catalog/catalog-web has no HorizontalPodAutoscaler (spec.scaleTargetRef kind Deployment, name 'catalog-web')"
    ]
    wrong_selector = edit(fx.pdb(), lambda p: p["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "api"}))
    [message] = stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=wrong_selector)))
    assert message.startswith("Deployment catalog/catalog-web has no PodDisruptionBudget whose selector matches its pod labels")
    # The HPA and PDB of another region's cluster do not count.
    split = on_cluster(catalog()[0], region="nyc3") + on_cluster(*catalog()[1:], region="fra1")
    assert len(stack_check(workloads.pdb_and_hpa, split)) == 2


def test_a_pdb_that_blocks_every_drain_is_refused():
    blocking = edit(fx.pdb(), lambda p: p["spec"].update(minAvailable=2))
    del blocking["spec"]["maxUnavailable"]
    [message] = stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=blocking)))
    assert "allows no eviction (minAvailable 2 with as few as 2 replica(s))" in message
    zero = edit(fx.pdb(), lambda p: p["spec"].update(maxUnavailable=0))
    assert "maxUnavailable 0" in stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=zero)))[0]
    expressions = edit(
        fx.pdb(),
        lambda p: p["spec"].update(
            selector={"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["catalog-web"]}]}
        ),
    )
    assert stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=expressions))) == []
    # policy/v1: a PDB without a selector selects no pod at all.
    no_selector = edit(fx.pdb(), lambda p: p["spec"].pop("selector"))
    assert "has no PodDisruptionBudget" in stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=no_selector)))[0]


def test_each_workload_namespace_has_a_default_deny_network_policy():
    assert stack_check(workloads.default_deny, on_cluster(*catalog())) == []
    without = [r for r in on_cluster(*catalog()) if r.resource_type != fx.NETWORK_POLICY]
    assert stack_check(workloads.default_deny, without) == [
        "namespace 'catalog' runs workloads (catalog-web) without a default-deny NetworkPolicy for Ingress and Egress "
        "(podSelector {}, policyTypes listing it, no rules): every pod could talk to every other"
    ]
    ingress_only = edit(fx.default_deny(), lambda p: p["spec"].update(policyTypes=["Ingress"]))
    assert "for Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=ingress_only)))[0]
    unset_types = edit(fx.default_deny(), lambda p: p["spec"].pop("policyTypes"))
    assert "for Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=unset_types)))[0]
    # A policy that selects some pods, or allows traffic, denies nothing by default.
    assert "Ingress and Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=fx.allow_from_gateway())))[0]
    split = [
        *on_cluster(catalog()[3]),
        *on_cluster(catalog()[0], region="fra1"),
    ]
    assert len(stack_check(workloads.default_deny, split)) == 1


def gateway_objects(**replace: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    objects = {
        "proxy": (fx.ENVOY_PROXY, "catalog-proxy", fx.envoy_proxy()),
        "class": (fx.GATEWAY_CLASS, "envoy", fx.gateway_class()),
        "gateway": (fx.GATEWAY, "catalog-gateway", fx.gateway()),
        "mtls": (fx.CLIENT_TRAFFIC_POLICY, "cloudflare-only", fx.client_traffic_policy()),
    }
    for key, props in replace.items():
        objects[key] = (objects[key][0], objects[key][1], props)
    return list(objects.values())


def test_each_gateway_is_locked_by_an_envoy_proxy_and_client_certificates():
    assert stack_check(edge.gateways_locked, on_cluster(*gateway_objects())) == []
    # The EnvoyProxy may also be named by the Gateway itself.
    direct = edit(
        fx.gateway(),
        lambda g: g["spec"].update(
            gatewayClassName="other",
            infrastructure={"parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": "catalog-proxy"}},
        ),
    )
    assert stack_check(edge.gateways_locked, on_cluster(*gateway_objects(gateway=direct))) == []
    cilium = edit(fx.gateway(), lambda g: g["spec"].update(gatewayClassName="cilium"))
    [message] = stack_check(edge.gateways_locked, on_cluster(*gateway_objects(gateway=cilium)))
    assert message.startswith("Gateway gateway/catalog names no EnvoyProxy of this cluster")
    elsewhere = edit(fx.client_traffic_policy(), lambda p: p["spec"]["targetRefs"][0].update(name="other"))
    [message] = stack_check(edge.gateways_locked, on_cluster(*gateway_objects(mtls=elsewhere)))
    assert message == (
        "Gateway gateway/catalog is targeted by no ClientTrafficPolicy: it accepts clients without Cloudflare's certificate"
    )


def dev_stack(max_nodes: int, size: str = "s-2vcpu-4gb", *extra: Any) -> list[Any]:
    doks = cluster(ha=False, nodePool={"size": size, "autoScale": True, "minNodes": 1, "maxNodes": max_nodes})
    return [policy_resource(CLUSTER, doks, stack="dev-alice", name="nyc3-doks"), *extra]


def test_a_dev_stack_above_its_budget_is_refused():
    table = cost.prices()
    per_node = table["droplets"]["s-4vcpu-8gb"]["monthly"]
    assert stack_check(cost.dev_budget, dev_stack(2, "s-4vcpu-8gb")) == []
    [message] = stack_check(cost.dev_budget, dev_stack(4, "s-4vcpu-8gb"))
    assert message.startswith(f"this dev stack could cost ${4 * per_node}/month at full scale, above its budget of $150")
    assert f"nyc3-doks: 4 x s-4vcpu-8gb ${4 * per_node}" in message
    # The budget is the policy's config (--policy-pack-config).
    assert stack_check(cost.dev_budget, dev_stack(4, "s-4vcpu-8gb"), {"maxMonthlyUsd": 500}) == []
    # Only dev stacks have a budget.
    production = [policy_resource(CLUSTER, cluster(), stack="production", name="nyc3-doks")]
    assert stack_check(cost.dev_budget, production) == []


def test_the_estimate_counts_load_balancers_gateways_spaces_and_cloudflare():
    table = cost.prices()
    lb_service = edit(fx.service(), lambda s: s["spec"].update(type="LoadBalancer"))
    lb_service["metadata"]["annotations"] = {cost.SIZE_UNIT_ANNOTATION: "3"}
    resources = [
        *dev_stack(2),
        *on_cluster((fx.SERVICE, "lb", lb_service), *gateway_objects(), stack="dev-alice"),
        policy_resource(BUCKET, bucket(), stack="dev-alice", name="assets"),
        policy_resource(fx.LOAD_BALANCER, fx.load_balancer(), stack="dev-alice", name="lb"),
        *(policy_resource(fx.POOL, fx.pool(r), stack="dev-alice", name=f"{r}-pool") for r in ("nyc3", "fra1", "sgp1")),
    ]
    lines = dict(cost.estimate(resources))
    lb = table["loadBalancer"]["perNode"]
    assert lines["nyc3-doks: 2 x s-2vcpu-4gb"] == 2 * table["droplets"]["s-2vcpu-4gb"]["monthly"]
    assert lines["lb: load balancer, 3 node(s)"] == 3 * lb
    # The gateway's EnvoyProxy asks for 2 load-balancer nodes.
    assert lines["catalog-gateway: gateway load balancer, 2 node(s)"] == 2 * lb
    assert lines["Spaces subscription"] == table["spaces"]["subscription"]
    assert lines["Cloudflare: 1 origin(s) beyond 2"] == table["cloudflare"]["perExtraOrigin"]
    assert lines["Cloudflare traffic steering"] == table["cloudflare"]["perRegionSteering"]


def test_an_unpriced_droplet_size_is_refused_rather_than_guessed():
    [message] = stack_check(cost.dev_budget, dev_stack(2, "s-64vcpu-1tb"))
    assert message == "cannot estimate this dev stack's cost: droplet size 's-64vcpu-1tb' is not in data/prices.yaml"
