"""Plan documents for the insight tools' tests: a real plan of the program, plus the
resources the workloads and edge issues add (Envoy Gateway, catalog workloads, monitoring,
Cloudflare load balancer, pools and monitor, or a personal stack's DNS record), built by
type token the way those components register them. The tools must read them by type and
region, so these documents stand in until the components land."""

from __future__ import annotations

import copy
from typing import Any

from ops import plandoc
from ops.plan import plan_document
from tests.conftest import plan_of

Document = dict[str, Any]


def real(stack: str, regions: list[str] | None = None) -> Document:
    """The plan document of a stack, optionally with other regions; a fresh copy."""
    overrides = {"marketplace:regions": regions} if regions else None
    return copy.deepcopy(plan_document(plan_of(stack, overrides=overrides)))


def _urn(document: Document, type_: str, name: str) -> str:
    return f"urn:pulumi:{document['stack']}::{document['project']}::{type_}::{name}"


def add(
    document: Document,
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    region: str | None = None,
    parent: str | None = None,
    provider: str | None = None,
    dependencies: list[str] | None = None,
    custom: bool = True,
) -> str:
    urn = _urn(document, type_, name)
    document["resources"].append(
        {
            "urn": urn,
            "type": type_,
            "name": name,
            "parent": parent,
            "custom": custom,
            "provider": provider,
            "region": region,
            "inputs": inputs or {},
            "dependencies": dependencies or [],
            "protect": False,
            "retainOnDelete": False,
        }
    )
    return urn


def find(document: Document, type_: str, name: str) -> dict[str, Any]:
    matches = [r for r in document["resources"] if r["type"] == type_ and r["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {type_} named {name}"
    return matches[0]


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"


def add_workloads(document: Document, region: str, lb_size_unit: int | None = 2) -> dict[str, str]:
    """One region's gateway and catalog workloads on its cluster; urns by role."""
    provider = find(document, plandoc.K8S_PROVIDER, f"{region}-k8s")["urn"]
    on = {"region": region, "provider": provider}
    component = add(document, "marketplace:index:Workloads", f"{region}-workloads", region=region, custom=False)
    on["parent"] = component
    controller = add(
        document,
        plandoc.HELM_RELEASE,
        f"{region}-envoy-gateway",
        {"chart": "oci://docker.io/envoyproxy/gateway-helm", "name": "eg", "namespace": "envoy-gateway-system"},
        **on,
    )
    annotations = {plandoc.LB_SIZE_UNIT_ANNOTATION: str(lb_size_unit)} if lb_size_unit else {}
    proxy = add(
        document,
        ENVOY_PROXY,
        f"{region}-proxy",
        {
            "metadata": {"name": "catalog-proxy"},
            "spec": {"provider": {"kubernetes": {"envoyService": {"annotations": annotations}}}},
        },
        dependencies=[controller],
        **on,
    )
    gateway = add(
        document,
        GATEWAY,
        f"{region}-gateway",
        {"metadata": {"name": "catalog"}, "spec": {"gatewayClassName": "eg"}},
        dependencies=[controller, proxy],
        **on,
    )
    urns = {"gateway": gateway, "controller": controller}
    for app in ("web", "api"):
        labels = {"app": app}
        urns[app] = add(
            document,
            DEPLOYMENT,
            f"{region}-{app}",
            {"metadata": {"name": app}, "spec": {"replicas": 3, "template": {"metadata": {"labels": labels}}}},
            **on,
        )
        add(document, SERVICE, f"{region}-{app}-svc", {"metadata": {"name": app}, "spec": {"selector": labels}}, **on)
    # A platform Deployment that the gateway does not route to.
    urns["metrics"] = add(
        document,
        DEPLOYMENT,
        f"{region}-metrics-server",
        {"metadata": {"name": "metrics-server"}, "spec": {"template": {"metadata": {"labels": {"app": "metrics"}}}}},
        **on,
    )
    add(
        document,
        HTTP_ROUTE,
        f"{region}-route",
        {
            "spec": {
                "parentRefs": [{"name": "catalog"}],
                "rules": [{"backendRefs": [{"name": "web"}]}, {"backendRefs": [{"name": "api"}]}],
            }
        },
        dependencies=[gateway],
        **on,
    )
    add(document, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"{region}-api-hpa", {}, **on)
    add(document, "kubernetes:policy/v1:PodDisruptionBudget", f"{region}-api-pdb", {}, **on)
    urns["monitoring"] = add(
        document,
        plandoc.HELM_RELEASE,
        f"{region}-monitoring",
        {"chart": "kube-prometheus-stack", "name": "monitoring", "namespace": "monitoring"},
        **on,
    )
    return urns


def add_edge(document: Document, gateways: dict[str, str], steering: str = "dynamic_latency") -> dict[str, str]:
    """The Cloudflare edge in front of the regions' gateways; urns by role."""
    edge = add(document, "marketplace:index:Edge", "edge", custom=False)
    monitor = add(document, plandoc.CF_MONITOR, "edge-monitor", {"path": "/healthz"}, parent=edge)
    pools: list[str] = []
    for region, gateway in gateways.items():
        pools.append(
            add(
                document,
                plandoc.CF_POOL,
                f"{region}-pool",
                {"name": f"mkt-{region}", "origins": [{"name": region, "address": f"198.18.0.{len(pools) + 1}", "weight": 1}]},
                region=region,
                parent=edge,
                dependencies=[monitor, gateway],
            )
        )
    lb = add(
        document,
        plandoc.CF_LOAD_BALANCER,
        "edge-lb",
        {"name": "catalog.example.com", "steeringPolicy": steering},
        parent=edge,
        dependencies=pools,
    )
    return {"monitor": monitor, "lb": lb}


def full_stack(stack: str = "production", regions: list[str] | None = None, lb_size_unit: int | None = 2) -> Document:
    """A stack as it will be once workloads and the edge land."""
    document = real(stack, regions)
    gateways = {region: add_workloads(document, region, lb_size_unit)["gateway"] for region in plandoc.regions_of(document)}
    if stack.startswith("dev-"):
        edge = add(document, "marketplace:index:Edge", "edge", custom=False)
        gateway = next(iter(gateways.values()))
        add(
            document,
            plandoc.CF_DNS_RECORD,
            "edge-record",
            {"name": f"{stack}.example.com", "type": "A", "proxied": True},
            parent=edge,
            dependencies=[gateway],
        )
    else:
        add_edge(document, gateways)
    return document
