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

_K8S_TYPE = re.compile(r"^kubernetes:(?P<group>[^/:]+)/(?P<version>[^:]+):(?P<kind>\w+)$")


def k8s_kind(type_: str) -> tuple[str, str] | None:
    """("gateway.networking.k8s.io", "Gateway") for a Kubernetes type token, any version:
    Gateway API objects move from v1beta1 to v1 without changing what they are."""
    match = _K8S_TYPE.match(type_)
    return (match.group("group"), match.group("kind")) if match else None


def is_kind(resource: Resource, group: str, kind: str) -> bool:
    return k8s_kind(resource["type"]) == (group, kind)


def is_gateway(resource: Resource) -> bool:
    return is_kind(resource, "gateway.networking.k8s.io", "Gateway")


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


def find_key(value: Any, key: str) -> Any:
    """The first value stored under `key` anywhere inside `value` (dicts and lists)."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        items: Iterable[Any] = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = find_key(item, key)
        if found is not None:
            return found
    return None


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
