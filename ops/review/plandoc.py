"""Reading plan documents (the JSON of `ops plan --json`): shared by cost, deploy time,
diff and diagram.

These tools read documents, never live plans, because the base of a diff is planned in
another process by another revision's code and only its JSON comes back. Resources are
recognised by type token, never by the name a component happens to give them, so the
tools keep working as components are added and renamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

Document = dict[str, Any]
Resource = dict[str, Any]

# DigitalOcean
VPC = "digitalocean:index/vpc:Vpc"
DOKS = "digitalocean:index/kubernetesCluster:KubernetesCluster"
NODE_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
DO_LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"
BUCKET_CORS = "digitalocean:index/spacesBucketCorsConfiguration:SpacesBucketCorsConfiguration"
CDN = "digitalocean:index/cdn:Cdn"
DO_PROJECT = "digitalocean:index/project:Project"
DO_PROJECT_RESOURCES = "digitalocean:index/projectResources:ProjectResources"
DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
UPTIME_CHECK = "digitalocean:index/uptimeCheck:UptimeCheck"
MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert"
VPC_PEERING = "digitalocean:index/vpcPeering:VpcPeering"
# Kubernetes
K8S_PROVIDER = "pulumi:providers:kubernetes"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
# Cloudflare
CF_LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
CF_POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
CF_MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
CF_DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"

# Where a DigitalOcean load balancer made by the cluster (for a Service of type
# LoadBalancer, or the Service a Gateway controller makes) gets its size from.
LB_SIZE_UNIT_ANNOTATION = "service.beta.kubernetes.io/do-loadbalancer-size-unit"
# Gateway API and Envoy Gateway, by API group.
GATEWAY_GROUP = "gateway.networking.k8s.io"
ENVOY_GROUP = "gateway.envoyproxy.io"

_K8S_TYPE = re.compile(r"^kubernetes:(?P<group>[^/:]+)/(?P<version>[^:]+):(?P<kind>\w+)$")


def k8s_kind(type_: str) -> tuple[str, str] | None:
    """("gateway.networking.k8s.io", "Gateway") for a Kubernetes type token, any version:
    Gateway API objects move from v1beta1 to v1 without changing what they are."""
    match = _K8S_TYPE.match(type_)
    return (match.group("group"), match.group("kind")) if match else None


def is_kind(resource: Resource, group: str, kind: str) -> bool:
    return k8s_kind(resource["type"]) == (group, kind)


def is_gateway(resource: Resource) -> bool:
    return is_kind(resource, GATEWAY_GROUP, "Gateway")


def is_deployment(resource: Resource) -> bool:
    return is_kind(resource, "apps", "Deployment")


def is_load_balancer_service(resource: Resource) -> bool:
    return is_kind(resource, "core", "Service") and get_path(resource["inputs"], "spec.type") == "LoadBalancer"


def get_path(value: Any, path: str, default: Any = None) -> Any:
    """value["a"]["b"] for "a.b"; the default where any step is missing."""
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def by_urn(document: Document) -> dict[str, Resource]:
    return {resource["urn"]: resource for resource in document["resources"]}


def of_type(document: Document, *types: str) -> list[Resource]:
    return by_name(resource for resource in document["resources"] if resource["type"] in types)


def children_of(document: Document) -> dict[str, list[Resource]]:
    children: dict[str, list[Resource]] = {}
    for resource in document["resources"]:
        if resource.get("parent"):
            children.setdefault(resource["parent"], []).append(resource)
    return children


def ancestors(resource: Resource, index: Mapping[str, Resource]) -> Iterator[Resource]:
    parent = resource.get("parent")
    seen = set()
    while parent and parent in index and parent not in seen:
        seen.add(parent)
        yield index[parent]
        parent = index[parent].get("parent")


def regions_of(document: Document) -> list[str]:
    """The stack's regions, sorted: the engine registers resources concurrently, so plan
    order changes from run to run and would reshuffle every picture and comment."""
    return sorted({str(r["region"]) for r in document["resources"] if r.get("region")})


def by_name(resources: Iterable[Resource]) -> list[Resource]:
    """Resources in a stable order (see regions_of)."""
    return sorted(resources, key=lambda r: (str(r.get("name")), str(r.get("type"))))


def region_hint(resource: Resource, regions: Iterable[str]) -> str | None:
    """The resource's region, or one its name mentions ("pool-fra1", "edge-fra1-origin"):
    the edge's resources are about a region without living in it, and may be named either way."""
    if resource.get("region"):
        return str(resource["region"])
    tokens = set(re.split(r"[^a-z0-9]+", str(resource.get("name", "")).lower()))
    for region in regions:
        if region in tokens:
            return region
    return None


def top_component(resource: Resource, index: Mapping[str, Resource]) -> Resource:
    """The outermost component in the plan that holds the resource (itself at top level)."""
    top = resource
    for ancestor in ancestors(resource, index):
        top = ancestor
    return top


def group_of(resource: Resource, index: Mapping[str, Resource]) -> str:
    """How the tools group resources for a reader: the region, else the top-level
    component's name ("assets", "edge", "stack")."""
    if resource.get("region"):
        return str(resource["region"])
    return str(top_component(resource, index)["name"])


def provider_cluster(document: Document) -> dict[str, Resource]:
    """Kubernetes provider URN -> the DOKS cluster it deploys to.

    The provider's kubeconfig is built from the cluster's outputs, so the cluster is among
    its dependencies; a provider that names none is matched to a cluster with the same parent."""
    index = by_urn(document)
    clusters = of_type(document, DOKS)
    mapping: dict[str, Resource] = {}
    for provider in of_type(document, K8S_PROVIDER):
        found = [index[d] for d in provider.get("dependencies", []) if d in index and index[d]["type"] == DOKS]
        if not found:
            found = [c for c in clusters if c.get("parent") and c.get("parent") == provider.get("parent")]
        if found:
            mapping[provider["urn"]] = found[0]
    return mapping


def cluster_of(resource: Resource, clusters_by_provider: Mapping[str, Resource]) -> Resource | None:
    provider = resource.get("provider")
    return clusters_by_provider.get(provider) if provider else None


def k8s_name(resource: Resource) -> str | None:
    name = get_path(resource.get("inputs") or {}, "metadata.name")
    return str(name) if name is not None else None


def k8s_namespace(resource: Resource) -> str | None:
    namespace = get_path(resource.get("inputs") or {}, "metadata.namespace")
    return str(namespace) if namespace is not None else None


def same_cluster(a: Resource, b: Resource, clusters_by_provider: Mapping[str, Resource]) -> bool:
    """Whether two Kubernetes objects live on one cluster: their providers deploy to the
    same DOKS cluster (a cluster may have several providers), or they share a provider."""
    cluster_a, cluster_b = cluster_of(a, clusters_by_provider), cluster_of(b, clusters_by_provider)
    if cluster_a is not None and cluster_b is not None:
        return bool(cluster_a["urn"] == cluster_b["urn"])
    return bool(a.get("provider")) and a.get("provider") == b.get("provider")


def _find_object(
    document: Document,
    near: Resource,
    clusters_by_provider: Mapping[str, Resource],
    *,
    group: str,
    kind: str,
    name: Any,
    namespace: str | None,
) -> Resource | None:
    """The object of a kind with a name (and namespace, for namespaced ones) on `near`'s cluster."""
    for resource in by_name(document["resources"]):
        if (
            is_kind(resource, group, kind)
            and k8s_name(resource) == name
            and (namespace is None or k8s_namespace(resource) == namespace)
            and same_cluster(resource, near, clusters_by_provider)
        ):
            return resource
    return None


def envoy_proxy_of(
    gateway: Resource, document: Document, clusters_by_provider: Mapping[str, Resource] | None = None
) -> Resource | None:
    """The EnvoyProxy that configures a Gateway's proxies, found the way Envoy Gateway finds
    it: the Gateway's own `spec.infrastructure.parametersRef` (an EnvoyProxy in the Gateway's
    namespace) first, else the `spec.parametersRef` of its GatewayClass."""
    clusters = provider_cluster(document) if clusters_by_provider is None else clusters_by_provider
    inputs = gateway.get("inputs") or {}
    namespace = k8s_namespace(gateway)
    ref = get_path(inputs, "spec.infrastructure.parametersRef")
    if isinstance(ref, dict) and ref.get("kind") == "EnvoyProxy" and ref.get("group", ENVOY_GROUP) == ENVOY_GROUP:
        found = _find_object(
            document, gateway, clusters, group=ENVOY_GROUP, kind="EnvoyProxy", name=ref.get("name"), namespace=namespace
        )
        if found is not None:
            return found
    class_name = get_path(inputs, "spec.gatewayClassName")
    gateway_class = _find_object(
        document, gateway, clusters, group=GATEWAY_GROUP, kind="GatewayClass", name=class_name, namespace=None
    )
    ref = get_path((gateway_class or {}).get("inputs") or {}, "spec.parametersRef")
    if isinstance(ref, dict) and ref.get("kind") == "EnvoyProxy" and ref.get("group") == ENVOY_GROUP:
        return _find_object(
            document,
            gateway,
            clusters,
            group=ENVOY_GROUP,
            kind="EnvoyProxy",
            name=ref.get("name"),
            namespace=ref.get("namespace"),
        )
    return None


def gateway_service(
    gateway: Resource, document: Document, clusters_by_provider: Mapping[str, Resource] | None = None
) -> tuple[str, dict[str, Any]]:
    """(type, annotations) of the Service Envoy Gateway makes in front of a Gateway's
    proxies, which for type LoadBalancer is what makes DigitalOcean create a load balancer.

    The annotations are the Gateway's `spec.infrastructure.annotations` overlaid with its
    EnvoyProxy's `spec.provider.kubernetes.envoyService.annotations`, as Envoy Gateway merges
    them; the type is the EnvoyProxy's, LoadBalancer by default. The Gateway's own
    `metadata.annotations` stay on the Gateway and never reach the Service."""
    annotations = dict(get_path(gateway.get("inputs") or {}, "spec.infrastructure.annotations") or {})
    proxy = envoy_proxy_of(gateway, document, clusters_by_provider)
    service = get_path((proxy or {}).get("inputs") or {}, "spec.provider.kubernetes.envoyService") or {}
    annotations.update(service.get("annotations") or {})
    return str(service.get("type") or "LoadBalancer"), annotations
