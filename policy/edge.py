"""The Cloudflare edge and the origins behind it: a load balancer that can route around a
dead region, and regional gateways that answer Cloudflare only.

Ids of pools and monitors are unknown during the first preview of a stack; a policy that
only needs to know they are set treats "unknown" as set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.regions import ALL_REGIONS, cloudflare_regions
from policy.common import UNKNOWN, Report, elements, k8s_name, namespace_of, open_to_everyone, peek
from policy.workloads import cluster_of

POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
SERVICE = "kubernetes:core/v1:Service"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
CLIENT_TRAFFIC_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GATEWAY_CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass"

# Cloudflare's load-balancing regions (data/cloudflare-regions.yaml); ALL_REGIONS is the 13
# at once (Enterprise).
CLOUDFLARE_REGIONS = frozenset(cloudflare_regions())

_ENVOY_GROUP = "gateway.envoyproxy.io"
_GATEWAY_GROUP = "gateway.networking.k8s.io"


def _pool_monitored(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == POOL and not peek(args.props, "monitor"):
        report(
            f"pool {args.name} has no health monitor: Cloudflare would keep sending users to a dead region "
            "(and dynamic_latency steering has no latency to steer by)"
        )


def _checked_regions(props: Any) -> frozenset[str] | None:
    """The regions a pool is health-checked from; None for every data centre (the API's
    null) and when the engine does not know them yet."""
    listed = peek(props, "checkRegions")
    if listed is None or listed is UNKNOWN:
        return None
    codes = frozenset(str(code) for code in elements(listed) if code is not UNKNOWN)
    return CLOUDFLARE_REGIONS if ALL_REGIONS in codes else codes


def _pool_health_majority(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != POOL:
        return
    regions = _checked_regions(args.props)
    if regions is not None and (len(regions) < 3 or len(regions) % 2 == 0):
        report(
            f"pool {args.name} is health-checked from {len(regions)} region(s): a pool's health is the majority of its "
            "check regions, and a majority of two is both, so one region's network fault marks the cluster down "
            "everywhere; check from an odd number of regions, at least three, or ALL_REGIONS"
        )


def _latency_steering_measured(args: StackValidationArgs, report: Report) -> None:
    """Dynamic latency has round-trip times only from a pool's check regions and serves
    every other region in failover order: each pool must be checked from all of them."""
    resources = list(args.resources)
    if not any(r.resource_type == LOAD_BALANCER and peek(r.props, "steeringPolicy") == "dynamic_latency" for r in resources):
        return
    for pool in (r for r in resources if r.resource_type == POOL):
        regions = _checked_regions(pool.props)
        if regions is not None and regions != CLOUDFLARE_REGIONS:
            missing = ", ".join(sorted(CLOUDFLARE_REGIONS - regions))
            report(
                f"pool {pool.name} has no round-trip data from {missing}: dynamic_latency steering sends those "
                "regions' visitors in failover order, not to the nearest cluster; check from every region "
                "(ALL_REGIONS on Enterprise, the 13 codes elsewhere) or steer by proximity",
                pool.urn,
            )


def _fallback_pool(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != LOAD_BALANCER:
        return
    if not peek(args.props, "fallbackPool"):
        report(f"load balancer {args.name} has no fallback_pool: when every pool is unhealthy, users get errors")
    default_pools = peek(args.props, "defaultPools")
    if default_pools is not UNKNOWN and not elements(default_pools):
        report(f"load balancer {args.name} has no default_pools")


def source_ranges(resource_type: str, props: Any) -> tuple[Any, str] | None:
    """(the source ranges, where they are set) of an object that makes a public load
    balancer, or None for objects that make none."""
    if resource_type == SERVICE:
        if peek(props, "spec", "type") != "LoadBalancer":
            return None
        return peek(props, "spec", "loadBalancerSourceRanges"), "spec.loadBalancerSourceRanges"
    if resource_type == ENVOY_PROXY:
        service = peek(props, "spec", "provider", "kubernetes", "envoyService")
        # Envoy Gateway makes a LoadBalancer Service unless the EnvoyProxy says otherwise.
        if peek(service, "type") in ("ClusterIP",):
            return None
        path = "spec.provider.kubernetes.envoyService.loadBalancerSourceRanges"
        return peek(service, "loadBalancerSourceRanges"), path
    return None


def _origins_cloudflare_only(args: ResourceValidationArgs, report: Report) -> None:
    found = source_ranges(args.resource_type, args.props)
    if found is None:
        return
    ranges, path = found
    what = f"{args.resource_type.rsplit(':', 1)[1]} {k8s_name(args.props, args.name)}"
    if ranges is UNKNOWN:
        return
    entries = elements(ranges)
    if not entries:
        report(
            f"{what} sets no {path}: its DigitalOcean load balancer would take traffic from anyone, "
            "not only from Cloudflare (set Cloudflare's ranges from cloudflare.get_ip_ranges())"
        )
    for problem in open_to_everyone(entries):
        report(f"{what}: {path} entry {problem}; only Cloudflare's ranges may reach an origin")


def _client_certificates(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != CLIENT_TRAFFIC_POLICY:
        return
    validation = peek(args.props, "spec", "tls", "clientValidation")
    what = f"ClientTrafficPolicy {k8s_name(args.props, args.name)}"
    refs = peek(validation, "caCertificateRefs")
    if refs is not UNKNOWN and not elements(refs):
        report(
            f"{what} validates no client certificate (spec.tls.clientValidation.caCertificateRefs): "
            "anyone who finds the origin's address could bypass Cloudflare"
        )
    if peek(validation, "optional") is True:
        report(f"{what} makes the client certificate optional (spec.tls.clientValidation.optional)")
    # `mode` supersedes the deprecated `optional` (Envoy Gateway 1.8+): only RequireAndVerify
    # (its default) refuses a client without a valid certificate.
    mode = peek(validation, "mode")
    if mode not in (None, UNKNOWN, "RequireAndVerify"):
        report(f"{what} does not require a valid client certificate (spec.tls.clientValidation.mode {mode})")


def _ref_is(ref: Any, group: str, kind: str) -> bool:
    return peek(ref, "kind") == kind and peek(ref, "group") in (group, UNKNOWN)


def envoy_proxy_of(gateway: PolicyResource, resources: list[PolicyResource]) -> PolicyResource | None:
    """The EnvoyProxy that shapes a Gateway's load balancer: the Gateway's own
    infrastructure.parametersRef, else its GatewayClass's parametersRef."""
    cluster = cluster_of(gateway)
    proxies = {
        (namespace_of(r.props), peek(r.props, "metadata", "name")): r
        for r in resources
        if r.resource_type == ENVOY_PROXY and cluster_of(r) == cluster
    }
    namespace = namespace_of(gateway.props)
    own = peek(gateway.props, "spec", "infrastructure", "parametersRef")
    if _ref_is(own, _ENVOY_GROUP, "EnvoyProxy"):
        return proxies.get((namespace, peek(own, "name")))
    class_name = peek(gateway.props, "spec", "gatewayClassName")
    for gateway_class in resources:
        if (
            gateway_class.resource_type == GATEWAY_CLASS
            and cluster_of(gateway_class) == cluster
            and peek(gateway_class.props, "metadata", "name") == class_name
        ):
            ref = peek(gateway_class.props, "spec", "parametersRef")
            if _ref_is(ref, _ENVOY_GROUP, "EnvoyProxy"):
                return proxies.get((peek(ref, "namespace") or "default", peek(ref, "name")))
    return None


def _targets(policy: PolicyResource) -> Iterator[Any]:
    yield from elements(peek(policy.props, "spec", "targetRefs"))
    single = peek(policy.props, "spec", "targetRef")
    if single:
        yield single


def _gateways_locked(args: StackValidationArgs, report: Report) -> None:
    resources = list(args.resources)
    for gateway in (r for r in resources if r.resource_type == GATEWAY):
        name = peek(gateway.props, "metadata", "name")
        where = f"Gateway {k8s_name(gateway.props, gateway.name)}"
        if envoy_proxy_of(gateway, resources) is None:
            report(
                f"{where} names no EnvoyProxy of this cluster (spec.infrastructure.parametersRef or its "
                "GatewayClass's spec.parametersRef): nothing restricts its load balancer to Cloudflare",
                gateway.urn,
            )
        covered = any(
            policy.resource_type == CLIENT_TRAFFIC_POLICY
            and cluster_of(policy) == cluster_of(gateway)
            and namespace_of(policy.props) == namespace_of(gateway.props)
            and any(_ref_is(ref, _GATEWAY_GROUP, "Gateway") and peek(ref, "name") in (name, UNKNOWN) for ref in _targets(policy))
            for policy in resources
        )
        if not covered:
            report(
                f"{where} is targeted by no ClientTrafficPolicy: it accepts clients without Cloudflare's certificate", gateway.urn
            )


pool_monitored = ResourceValidationPolicy(
    name="cloudflare-pool-monitored",
    description="Every Cloudflare load-balancer pool has a health monitor.",
    validate=_pool_monitored,
)

pool_health_majority = ResourceValidationPolicy(
    name="cloudflare-pool-health-majority",
    description="Every pool is health-checked from an odd number of regions, at least three, or from all of them.",
    validate=_pool_health_majority,
)

latency_steering_measured = StackValidationPolicy(
    name="cloudflare-latency-steering-measured",
    description="With dynamic_latency steering every pool is checked from every Cloudflare region.",
    validate=_latency_steering_measured,
)

fallback_pool = ResourceValidationPolicy(
    name="cloudflare-lb-fallback-pool",
    description="Every Cloudflare load balancer has default pools and a fallback pool.",
    validate=_fallback_pool,
)

origins_cloudflare_only = ResourceValidationPolicy(
    name="edge-origins-cloudflare-only",
    description="Origin load balancers (EnvoyProxy, LoadBalancer Services) admit only listed source ranges, never 0.0.0.0/0.",
    validate=_origins_cloudflare_only,
)

client_certificates = ResourceValidationPolicy(
    name="edge-client-certificates-required",
    description="ClientTrafficPolicies require a client certificate signed by a listed CA.",
    validate=_client_certificates,
)

gateways_locked = StackValidationPolicy(
    name="edge-gateways-locked",
    description="Every Gateway has an EnvoyProxy (source ranges) and a ClientTrafficPolicy (client certificates).",
    validate=_gateways_locked,
)

POLICIES = [
    pool_monitored,
    pool_health_majority,
    latency_steering_measured,
    fallback_pool,
    origins_cloudflare_only,
    client_certificates,
    gateways_locked,
]
