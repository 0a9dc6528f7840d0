"""`ops diagram`: a Mermaid flowchart of a stack, drawn from its offline plan.

What is drawn comes from the plan's resource types and regions, never from a list kept
here, so the picture changes when the program does: the Cloudflare edge (load balancer,
pools, monitor, or a personal stack's DNS record), each region as a subgraph with its VPC,
clusters (every generation of an upgrade), gateways, workloads and platform releases, and
the shared assets. Solid arrows are traffic (users → load balancer → pools → the gateways
their origins come from, labelled with each origin's weight when a pool has several →
the Deployments the gateway's routes reach); dotted arrows are what carries none: ownership
(a VPC hosts its clusters, a cluster runs its gateways and workloads; a monitor checks
pools), an origin at weight 0 (standby) and a drained region's pool. GitHub renders the
output in Markdown files and pull-request comments.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT
from ops.review import plandoc
from ops.review.plandoc import Document, Resource


@dataclass
class _Chart:
    ids: dict[str, str] = field(default_factory=dict)  # urn -> node id
    used: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)

    def node_id(self, key: str, hint: str) -> str:
        if key in self.ids:
            return self.ids[key]
        # Mermaid ids: letters, digits, underscores; a prefix keeps words like "end" out.
        base = "n_" + re.sub(r"[^A-Za-z0-9]+", "_", hint).strip("_")
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}_{n}", n + 1
        self.used.add(candidate)
        self.ids[key] = candidate
        return candidate

    def node(self, indent: int, key: str, hint: str, shape: str, label: str) -> str:
        node_id = self.node_id(key, hint)
        opening, closing = shape.split("|")
        self.lines.append(f'{"    " * indent}{node_id}{opening}"{_label(label)}"{closing}')
        return node_id

    def edge(self, source: str, target: str, arrow: str = "-->", text: str = "") -> None:
        line = f"    {source} {arrow}|{_label(text)}| {target}" if text else f"    {source} {arrow} {target}"
        if line not in self.edges:
            self.edges.append(line)


def _label(text: str) -> str:
    # Inside a quoted label only a double quote ends it early; line breaks would end the statement.
    return text.replace('"', "#quot;").replace("\n", " ")


# Shapes, "opening|closing" around the quoted label.
USERS = "((|))"
LOAD_BALANCER = "{{|}}"
BOX = "[|]"
ROUNDED = "(|)"
STADIUM = "([|])"
SUBROUTINE = "[[|]]"
CYLINDER = "[(|)]"
FLAG = ">|]"
TRAPEZOID = "[/|\\]"


def _city(region: str) -> str:
    try:
        from components.regions import REGIONS
    except ImportError:  # pragma: no cover - the program's own data, always present here
        return ""
    known = REGIONS.get(region)
    return f" · {known.city}" if known else ""


def _cluster_label(cluster: Resource) -> str:
    inputs = cluster["inputs"]
    pool = inputs.get("nodePool") or {}
    low, high = pool.get("minNodes", pool.get("nodeCount")), pool.get("maxNodes", pool.get("nodeCount"))
    nodes = f"{low}" if low == high else f"{low}-{high}"
    details = [f"DOKS {inputs.get('version', '')}".strip()]
    if pool.get("size"):
        details.append(f"{nodes} \u00d7 {pool['size']}")
    if inputs.get("ha") is True:
        details.append("HA")
    return f"{cluster['name']}<br/>{' · '.join(details)}"


def _chart_name(release: Resource) -> str:
    chart = str(release["inputs"].get("chart") or release["name"])
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _routes_to(document: Document, gateway: Resource, clusters: dict[str, Resource]) -> list[Resource] | None:
    """The HTTPRoutes attached to a Gateway (a parentRef naming it, in its namespace); None
    when the Gateway's cluster has no routes at all."""
    routes = [
        r
        for r in document["resources"]
        if plandoc.is_kind(r, plandoc.GATEWAY_GROUP, "HTTPRoute") and plandoc.same_cluster(r, gateway, clusters)
    ]
    if not routes:
        return None
    name, namespace = plandoc.k8s_name(gateway), plandoc.k8s_namespace(gateway)
    attached = []
    for route in routes:
        for ref in plandoc.get_path(route["inputs"], "spec.parentRefs") or []:
            if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway":
                continue
            # A parentRef without a namespace means the route's own.
            if ref.get("name") == name and ref.get("namespace", plandoc.k8s_namespace(route)) == namespace:
                attached.append(route)
                break
    return attached


def _backends(route: Resource) -> set[tuple[str | None, str]]:
    """(namespace, name) of the Services a route's rules send traffic to."""
    found = set()
    for rule in plandoc.get_path(route["inputs"], "spec.rules") or []:
        for backend in (rule or {}).get("backendRefs") or []:
            if isinstance(backend, dict) and backend.get("name") and backend.get("kind", "Service") == "Service":
                found.add((backend.get("namespace", plandoc.k8s_namespace(route)), str(backend["name"])))
    return found


def _served(document: Document, gateway: Resource, clusters: dict[str, Resource]) -> list[Resource]:
    """The Deployments a Gateway sends traffic to: through its routes' backend Services,
    whose selectors match the Deployments' pods (every Deployment of its cluster when the
    cluster has no routes)."""
    deployments = [d for d in document["resources"] if plandoc.is_deployment(d) and plandoc.same_cluster(d, gateway, clusters)]
    routes = _routes_to(document, gateway, clusters)
    if routes is None:
        return deployments
    wanted = set().union(*(_backends(route) for route in routes)) if routes else set()
    services = [
        s
        for s in document["resources"]
        if plandoc.is_kind(s, "core", "Service")
        and plandoc.same_cluster(s, gateway, clusters)
        and (plandoc.k8s_namespace(s), plandoc.k8s_name(s) or s["name"]) in wanted
    ]
    served = []
    for deployment in deployments:
        labels = plandoc.get_path(deployment["inputs"], "spec.template.metadata.labels") or {}
        for service in services:
            selector = plandoc.get_path(service["inputs"], "spec.selector") or {}
            if (
                selector
                and plandoc.k8s_namespace(service) == plandoc.k8s_namespace(deployment)
                and all(labels.get(k) == v for k, v in selector.items())
            ):
                served.append(deployment)
                break
    return served


def _replicas(document: Document, deployment: Resource, clusters: dict[str, Resource]) -> str:
    """Its replicas: the autoscaler's range when one scales it ("2-6 replicas (HPA)")."""
    for hpa in document["resources"]:
        target = plandoc.get_path(hpa.get("inputs") or {}, "spec.scaleTargetRef") or {}
        if (
            plandoc.is_kind(hpa, "autoscaling", "HorizontalPodAutoscaler")
            and target.get("kind") == "Deployment"
            and target.get("name") == plandoc.k8s_name(deployment)
            and plandoc.k8s_namespace(hpa) == plandoc.k8s_namespace(deployment)
            and plandoc.same_cluster(hpa, deployment, clusters)
        ):
            low = plandoc.get_path(hpa["inputs"], "spec.minReplicas", 1)
            high = plandoc.get_path(hpa["inputs"], "spec.maxReplicas")
            return f"{low}\u2013{high} replicas (HPA)" if high not in (None, low) else f"{low} replicas (HPA)"
    replicas = plandoc.get_path(deployment["inputs"], "spec.replicas")
    return f"{replicas} replicas" if isinstance(replicas, int) else ""


def _edge_section(chart: _Chart, document: Document, regions: list[str]) -> list[str]:
    """The Cloudflare subgraph; returns the entry nodes users reach."""
    balancers = plandoc.of_type(document, plandoc.CF_LOAD_BALANCER)
    pools = plandoc.of_type(document, plandoc.CF_POOL)
    monitors = plandoc.of_type(document, plandoc.CF_MONITOR)
    records = plandoc.of_type(document, plandoc.CF_DNS_RECORD)
    if not (balancers or pools or monitors or records):
        return []
    entries: list[str] = []
    pool_ids: dict[str, str] = {}
    chart.lines.append('    subgraph g_edge["Cloudflare edge"]')
    for lb in balancers:
        policy = lb["inputs"].get("steeringPolicy")
        host = lb["inputs"].get("name") or lb["name"]
        label = f"load balancer {host}" + (f"<br/>steering: {policy}" if policy else "")
        entries.append(chart.node(2, lb["urn"], lb["name"], LOAD_BALANCER, label))
    for record in records:
        name = record["inputs"].get("name") or record["name"]
        label = f"DNS {record['inputs'].get('type', 'record')} {name}" + (" (proxied)" if record["inputs"].get("proxied") else "")
        entries.append(chart.node(2, record["urn"], record["name"], FLAG, label))
    for monitor in monitors:
        path = monitor["inputs"].get("path") or ""
        chart.node(2, monitor["urn"], monitor["name"], STADIUM, f"health monitor {path}".strip())
    for pool in pools:
        region = plandoc.region_hint(pool, regions)
        origins = len(pool["inputs"].get("origins") or [])
        label = f"pool {region or pool['name']}" + (f"<br/>{origins} origin{'s' if origins != 1 else ''}" if origins else "")
        if pool["inputs"].get("enabled") is False:
            label += "<br/>disabled (drained)"
        pool_ids[pool["urn"]] = chart.node(2, pool["urn"], pool["name"], BOX, label)
    chart.lines.append("    end")

    for lb in balancers:
        # The load balancer refers to its pools, so they are among its dependencies.
        targets = [p for p in pools if p["urn"] in (lb.get("dependencies") or [])] or pools
        for pool in targets:
            if pool["inputs"].get("enabled") is False:
                # A drained region's pool takes no visitors.
                chart.edge(chart.ids[lb["urn"]], pool_ids[pool["urn"]], "-.->", "drained")
            else:
                chart.edge(chart.ids[lb["urn"]], pool_ids[pool["urn"]])
    for monitor in monitors:
        for pool in pools:
            if monitor["urn"] in (pool.get("dependencies") or []) or len(monitors) == 1:
                chart.edge(chart.ids[monitor["urn"]], pool_ids[pool["urn"]], "-.->", "checks")
    return entries


def _is_entry(resource: Resource) -> bool:
    """Where traffic enters a cluster: a Gateway or a Service of type LoadBalancer."""
    return plandoc.is_gateway(resource) or plandoc.is_load_balancer_service(resource)


def _entry_label(document: Document, entry: Resource, clusters: dict[str, Resource]) -> str:
    if plandoc.is_gateway(entry):
        service_type, annotations = plandoc.gateway_service(entry, document, clusters)
        what = "Gateway"
    else:
        service_type, annotations = "LoadBalancer", plandoc.get_path(entry["inputs"], "metadata.annotations") or {}
        what = "Service (LoadBalancer)"
    if service_type != "LoadBalancer":
        return f"{what} {entry['name']}<br/>{service_type} Service"
    units = annotations.get(plandoc.LB_SIZE_UNIT_ANNOTATION)
    size = f" · {units} size unit{'s' if str(units) != '1' else ''}" if units else ""
    return f"{what} {entry['name']}<br/>DigitalOcean LB{size}"


def _region_section(chart: _Chart, document: Document, region: str, clusters_by_provider: dict[str, Resource]) -> None:
    members = [r for r in document["resources"] if r.get("region") == region and r.get("custom")]
    # Subgraph ids start with g_, node ids with n_: they cannot collide.
    subgraph = "g_region_" + re.sub(r"[^A-Za-z0-9]+", "_", region)
    chart.lines.append(f'    subgraph {subgraph}["{_label(region + _city(region))}"]')
    for vpc in (r for r in members if r["type"] == plandoc.VPC):
        chart.node(2, vpc["urn"], vpc["name"], BOX, f"VPC {vpc['inputs'].get('ipRange', '')}".strip())
    for cluster in (r for r in members if r["type"] == plandoc.DOKS):
        chart.node(2, cluster["urn"], cluster["name"], SUBROUTINE, _cluster_label(cluster))
        for vpc in (r for r in members if r["type"] == plandoc.VPC):
            if vpc["urn"] in (cluster.get("dependencies") or []):
                chart.edge(chart.ids[vpc["urn"]], chart.ids[cluster["urn"]], "-.->", "hosts")
    for pool in (r for r in members if r["type"] == plandoc.NODE_POOL):
        inputs = pool["inputs"]
        low, high = inputs.get("minNodes", inputs.get("nodeCount")), inputs.get("maxNodes", inputs.get("nodeCount"))
        nodes = f"{low}" if low == high else f"{low}-{high}"
        chart.node(2, pool["urn"], pool["name"], BOX, f"{pool['name']}<br/>{nodes} \u00d7 {inputs.get('size', '')}")
        for cluster in (r for r in members if r["type"] == plandoc.DOKS):
            if cluster["urn"] in (pool.get("dependencies") or []):
                chart.edge(chart.ids[cluster["urn"]], chart.ids[pool["urn"]], "-.->", "workers")

    def owned_by_cluster(resource: Resource) -> None:
        cluster = plandoc.cluster_of(resource, clusters_by_provider)
        if cluster and cluster["urn"] in chart.ids:
            chart.edge(chart.ids[cluster["urn"]], chart.ids[resource["urn"]], "-.->", "runs")

    for gateway in (r for r in members if _is_entry(r)):
        chart.node(2, gateway["urn"], gateway["name"], LOAD_BALANCER, _entry_label(document, gateway, clusters_by_provider))
        owned_by_cluster(gateway)
    for deployment in (r for r in members if plandoc.is_deployment(r)):
        replicas = _replicas(document, deployment, clusters_by_provider)
        label = f"{deployment['name']}" + (f"<br/>{replicas}" if replicas else "")
        chart.node(2, deployment["urn"], deployment["name"], ROUNDED, label)
        owned_by_cluster(deployment)
    for release in (r for r in members if r["type"] == plandoc.HELM_RELEASE):
        chart.node(2, release["urn"], release["name"], TRAPEZOID, f"helm {_chart_name(release)}")
        owned_by_cluster(release)
    chart.lines.append("    end")


def _assets_section(chart: _Chart, document: Document) -> list[str]:
    buckets = plandoc.of_type(document, plandoc.BUCKET)
    cdns = plandoc.of_type(document, plandoc.CDN)
    if not (buckets or cdns):
        return []
    chart.lines.append('    subgraph g_assets["Assets"]')
    for bucket in buckets:
        region = bucket["inputs"].get("region")
        label = f"Spaces bucket {bucket['name']}" + (f"<br/>{region}" if region else "")
        chart.node(2, bucket["urn"], bucket["name"], CYLINDER, label)
    entries = [chart.node(2, cdn["urn"], cdn["name"], STADIUM, f"CDN {cdn['name']}") for cdn in cdns]
    chart.lines.append("    end")
    for cdn in cdns:
        for bucket in buckets:
            if bucket["urn"] in (cdn.get("dependencies") or []) or len(buckets) == 1:
                chart.edge(chart.ids[cdn["urn"]], chart.ids[bucket["urn"]], "-->", "origin")
    return entries


def _origin_weight(pool: Resource, entry: Resource, index: dict[str, Resource], clusters: dict[str, Resource]) -> Any:
    """The weight of the pool origin that is this entry's cluster, or None.

    Origins are named after the cluster they reach ("nyc3", "nyc3-green"): the name of a
    component that holds the entry or its cluster."""
    names = {a["name"] for a in plandoc.ancestors(entry, index)}
    cluster = plandoc.cluster_of(entry, clusters)
    if cluster is not None:
        names |= {cluster["name"], *(a["name"] for a in plandoc.ancestors(cluster, index))}
    for origin in pool["inputs"].get("origins") or []:
        if isinstance(origin, dict) and origin.get("name") in names:
            return origin.get("weight", 1)
    return None


def _weight_text(weight: Any) -> str:
    return f"{weight:g}" if isinstance(weight, (int, float)) else str(weight)


def _traffic(
    chart: _Chart, document: Document, regions: list[str], entries: list[str], clusters_by_provider: dict[str, Resource]
) -> None:
    index = plandoc.by_urn(document)
    drawn_entries = [r for r in document["resources"] if r.get("region") and _is_entry(r) and r["urn"] in chart.ids]

    def targets_of(resource: Resource) -> list[Resource]:
        """Where an edge resource sends traffic: the gateways its origin addresses come
        from, which are among its dependencies; failing that (fixed addresses), those of
        the region its name or place says."""
        dependencies = set(resource.get("dependencies") or [])
        found = [e for e in drawn_entries if e["urn"] in dependencies]
        region = plandoc.region_hint(resource, regions) or (regions[0] if len(regions) == 1 else None)
        return found or [e for e in drawn_entries if region and e.get("region") == region]

    for pool in plandoc.of_type(document, plandoc.CF_POOL):
        several = len(pool["inputs"].get("origins") or []) > 1
        for target in targets_of(pool):
            weight = _origin_weight(pool, target, index, clusters_by_provider)
            if weight == 0:
                # Up and health-checked but out of rotation: no traffic (an upgrade's new
                # generation before its canary, or the old one after promotion).
                chart.edge(chart.ids[pool["urn"]], chart.ids[target["urn"]], "-.->", "standby, weight 0")
            elif several and weight is not None:
                chart.edge(chart.ids[pool["urn"]], chart.ids[target["urn"]], "-->", f"weight {_weight_text(weight)}")
            else:
                chart.edge(chart.ids[pool["urn"]], chart.ids[target["urn"]])
    for record in plandoc.of_type(document, plandoc.CF_DNS_RECORD):
        for target in targets_of(record):
            chart.edge(chart.ids[record["urn"]], chart.ids[target["urn"]])

    for gateway in drawn_entries:
        if plandoc.is_gateway(gateway):
            for deployment in _served(document, gateway, clusters_by_provider):
                if deployment["urn"] in chart.ids:
                    chart.edge(chart.ids[gateway["urn"]], chart.ids[deployment["urn"]])

    if entries:
        users = chart.node_id("users", "users")
        chart.lines.insert(1, f'    {users}(("Users"))')
        for entry in entries:
            chart.edge(users, entry)


def diagram(document: Document) -> str:
    """The Mermaid source (`flowchart LR`) of a plan document."""
    chart = _Chart(lines=["flowchart LR"])
    document = {**document, "resources": plandoc.by_name(document["resources"])}
    regions = plandoc.regions_of(document)
    clusters_by_provider = plandoc.provider_cluster(document)
    edge_entries = _edge_section(chart, document, regions)
    for region in regions:
        _region_section(chart, document, region, clusters_by_provider)
    asset_entries = _assets_section(chart, document)
    _traffic(chart, document, regions, [*edge_entries, *asset_entries], clusters_by_provider)
    return "\n".join([*chart.lines, *chart.edges]) + "\n"


def as_markdown(source: str, stack: str) -> str:
    return f"<!-- generated by `python -m ops diagram --stack {stack}` -->\n```mermaid\n{source}```\n"


def node_ids(source: str) -> Iterable[str]:
    """Ids of the nodes a diagram declares (for tests and tools that check it)."""
    return re.findall(r"^\s*(n_\w+)[\[\(\{>]", source, flags=re.MULTILINE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack to draw (default: dev)")
    parser.add_argument("--output", "-o", type=Path, help="write to FILE instead of stdout (a .md file gets a ```mermaid block)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from offline.engine import PlanError, run_plan
    from ops.review.plan import os_problem, plan_document, unwritable

    problem = args.output and unwritable(args.output)
    if problem:
        print(f"error: --output {args.output}: {problem}", file=sys.stderr)
        return 2
    try:
        plan = run_plan(args.stack, root=args.root)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    source = diagram(plan_document(plan))
    if args.output is None:
        sys.stdout.write(source)
        return 0
    text = as_markdown(source, args.stack) if args.output.suffix.lower() == ".md" else source
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"error: --output {args.output}: {os_problem(error)}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
