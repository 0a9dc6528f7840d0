"""Hand-built resources for the policy tests: good ones, edits that break them, and the
cases each policy module's tests run (policy, type, good, bad, stack, expected message).

Arguments are built the way the SDK builds them from the engine's request
(tests/policy/policyargs.py): numbers as floats, nested values as read-only proxies, unknowns
raising on access."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

from pulumi_policy import Policy

from policy import clusters, edge, storage, workloads
from tests import policy_fixtures as fx
from tests.policy.policyargs import cluster_provider, policy_resource, reported, resource_args, stack_args

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


DEPLOYMENT = fx.deployment()

# Allow-lists of public or placeholder ranges, so that the breadth rule alone decides: the
# first three pass in production, the others admit too large a share of the internet.
ALLOW_LISTS = [
    ["203.0.113.0/24"],
    ["203.0.113.0/24", "198.51.100.0/24"],
    ["8.0.0.0/9"],
    ["0.0.0.0/0"],
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    ["198.51.100.0/24", "8.0.0.0/8"],
    ["1.0.0.0/9", "2.0.0.0/9"],
]


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
            "has no tag or digest, so every node may pull a different image",
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
            edge.pool_health_majority,
            fx.POOL,
            {**fx.pool(), "checkRegions": ["WEU", "EEU", "NAF"]},
            {**fx.pool(), "checkRegions": ["WEU", "EEU"]},
            "production",
            "is health-checked from 2 region(s): a pool's health is the majority of its check regions",
        ),
        (
            edge.pool_health_majority,
            fx.POOL,
            {**fx.pool(), "checkRegions": ["ALL_REGIONS"]},
            {**fx.pool(), "checkRegions": ["WEU", "EEU", "NAF", "ME"]},
            "production",
            "is health-checked from 4 region(s)",
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
        (
            edge.client_certificates,
            fx.CLIENT_TRAFFIC_POLICY,
            edit(fx.client_traffic_policy(), lambda p: p["spec"]["tls"]["clientValidation"].update(mode="RequireAndVerify")),
            edit(fx.client_traffic_policy(), lambda p: p["spec"]["tls"]["clientValidation"].update(mode="VerifyIfGiven")),
            "production",
            "does not require a valid client certificate (spec.tls.clientValidation.mode VerifyIfGiven)",
        ),
    ]
]


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


def dev_stack(max_nodes: int, size: str = "s-2vcpu-4gb", *extra: Any) -> list[Any]:
    doks = cluster(ha=False, nodePool={"size": size, "autoScale": True, "minNodes": 1, "maxNodes": max_nodes})
    return [policy_resource(CLUSTER, doks, stack="dev-alice", name="nyc3-doks"), *extra]


def cases_of(module: ModuleType) -> list[Case]:
    """The resource cases of one policy module's policies."""
    policies = [value for value in vars(module).values() if isinstance(value, Policy)]
    return [case for case in RESOURCE_CASES if any(case.policy is policy for policy in policies)]


def assert_good_passes_and_bad_fails(case: Case) -> None:
    assert check(case.policy, case.type_, case.good, case.stack) == []
    messages = check(case.policy, case.type_, case.bad, case.stack)
    assert any(case.message in m for m in messages), messages


def case_ids(cases: list[Case]) -> list[str]:
    return [f"{case.policy.name}-{RESOURCE_CASES.index(case)}" for case in cases]
