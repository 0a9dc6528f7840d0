"""`ops plan --details` (and `ops diff --details`): the key inputs of each resource a deploy
creates, grouped by region so that a region's VPC, cluster, workloads and pool read
together, then what is not regional (edge, assets, project).

Which inputs are "key" is a table per type (version, node pool, subnets, weights, images,
replicas...); a type without an entry shows its top-level plain inputs. Values print whole,
never cut, and what only the deploy makes (ids, addresses) prints as (known after deploy).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from ops.review import plandoc
from ops.review.computed import RESOURCE_KEY, as_changed, as_text
from ops.review.plandoc import Document, Resource

# Type token (or Kubernetes "group/Kind") -> input paths worth reading; "[*]" walks a list,
# labelling each item by its name.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    plandoc.VPC: ("name", "region", "ipRange"),
    plandoc.DOKS: (
        "name", "region", "version", "nodePool.size", "nodePool.minNodes", "nodePool.maxNodes", "nodePool.autoScale",
        "ha", "clusterSubnet", "serviceSubnet", "vpcUuid", "surgeUpgrade", "autoUpgrade", "maintenancePolicy",
        "controlPlaneFirewall",
    ),
    plandoc.NODE_POOL: ("name", "clusterId", "size", "minNodes", "maxNodes", "autoScale", "nodeCount"),
    plandoc.BUCKET: ("name", "region", "acl", "versioning", "forceDestroy"),
    plandoc.CDN: ("origin", "ttl", "customDomain"),
    plandoc.CF_POOL: ("name", "enabled", "origins[*]", "checkRegions", "monitor", "minimumOrigins"),
    plandoc.CF_LOAD_BALANCER: (
        "name", "steeringPolicy", "defaultPools", "fallbackPool", "regionPools", "proxied", "sessionAffinity",
    ),
    plandoc.CF_MONITOR: ("type", "method", "path", "expectedCodes", "interval", "timeout", "retries", "consecutiveDown"),
    plandoc.CF_DNS_RECORD: ("name", "type", "content", "proxied", "ttl"),
    plandoc.HELM_RELEASE: ("chart", "version", "namespace", "repositoryOpts.repo"),
    plandoc.K8S_PROVIDER: (),
    "apps/Deployment": ("spec.replicas", "spec.template.spec.containers[*].image"),
    "autoscaling/HorizontalPodAutoscaler": ("spec.minReplicas", "spec.maxReplicas"),
    "policy/PodDisruptionBudget": ("spec.minAvailable", "spec.maxUnavailable"),
    "core/Service": ("spec.type", "spec.ports[*].port"),
    f"{plandoc.GATEWAY_GROUP}/Gateway": ("spec.gatewayClassName", "spec.listeners[*].port", "spec.listeners[*].hostname"),
    f"{plandoc.GATEWAY_GROUP}/HTTPRoute": ("spec.hostnames",),
}  # fmt: skip
# Types shown by name only: their content is in the manifests (`ops plan --manifests`).
_KUBERNETES_DEFAULT: tuple[str, ...] = ()
# Resources listed first in a region: the network, then the cluster and its provider.
_ORDER = (plandoc.VPC, plandoc.DOKS, plandoc.NODE_POOL, plandoc.K8S_PROVIDER)


def _key_paths(resource: Resource) -> tuple[str, ...] | None:
    if resource["type"] in KEY_INPUTS:
        return KEY_INPUTS[resource["type"]]
    kind = plandoc.k8s_kind(resource["type"])
    if kind is not None:
        return KEY_INPUTS.get(f"{kind[0]}/{kind[1]}", _KUBERNETES_DEFAULT)
    return None


def _walk(value: Any, parts: list[str], label: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield label, value
        return
    part, rest = parts[0], parts[1:]
    if part.endswith("[*]"):
        items = value.get(part[:-3]) if isinstance(value, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            name = item.get("name", index) if isinstance(item, dict) else index
            yield from _walk(item, rest, f"{label}{part[:-3]}[{name}]" + ("." if rest else ""))
    elif isinstance(value, dict) and part in value:
        yield from _walk(value[part], rest, f"{label}{part}" + ("." if rest else ""))


def key_inputs(resource: Resource, inputs: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) of a resource's key inputs, in the table's order."""
    paths = _key_paths(resource)
    if paths is None:
        return [(key, value) for key, value in sorted(inputs.items()) if not isinstance(value, (dict, list))]
    found: list[tuple[str, Any]] = []
    for path in paths:
        found += _walk(inputs, path.split("."), "")
    return found


def _title(resource: Resource) -> str:
    where = ""
    if plandoc.k8s_kind(resource["type"]) is not None:
        name, namespace = plandoc.k8s_name(resource), plandoc.k8s_namespace(resource)
        if name:
            where = f"  ({namespace}/{name})" if namespace else f"  ({name})"
    return f"+ {resource['type']}  {resource['name']}{where}"


def _rank(resource: Resource) -> tuple[int, str, str]:
    order = _ORDER.index(resource["type"]) if resource["type"] in _ORDER else len(_ORDER)
    return order, str(resource["name"]), str(resource["type"])


def groups(document: Document, urns: Collection[str] | None = None) -> list[tuple[str, list[Resource]]]:
    """The custom resources (all, or those in `urns`) by region in the stack's region order,
    then by top-level component."""
    index = plandoc.by_urn(document)
    regions = plandoc.regions_of(document)
    found: dict[str, list[Resource]] = {}
    for resource in document["resources"]:
        if resource.get("custom", True) and (urns is None or resource["urn"] in urns):
            group = plandoc.region_hint(resource, regions) or plandoc.group_of(resource, index)
            found.setdefault(group, []).append(resource)
    rank = {region: i for i, region in enumerate(regions)}
    ordered = sorted(found.items(), key=lambda item: (item[0] not in rank, rank.get(item[0], 0), item[0]))
    return [(group, sorted(resources, key=_rank)) for group, resources in ordered]


def render(document: Document, urns: Collection[str] | None = None, title: str = "Created resources") -> str:
    """The details view: every created resource (or those in `urns`), its key inputs below it.
    Values that refer to anything created here are (known after deploy); what an existing
    resource computed is its (deployed value)."""
    created = {r["urn"] for r in document["resources"]} if urns is None else set(urns)
    lines = [f"{title}, by region (key inputs; the rest: --json or --manifests):"]
    for group, resources in groups(document, urns):
        lines += ["", f"  {group}"]
        for resource in resources:
            inputs = as_changed(resource.get("inputs") or {}, resource.get(RESOURCE_KEY) or [], created)
            lines.append(f"    {_title(resource)}")
            lines.extend(f"          {label}: {as_text(value)}" for label, value in key_inputs(resource, inputs))
    return "\n".join(lines) + "\n"
