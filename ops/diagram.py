"""`ops diagram`: a Mermaid flowchart of a stack, drawn from its offline plan.

What is drawn comes from the plan's resource types and regions, never from a list kept
here, so the picture changes when the program does: the Cloudflare edge (load balancer,
pools, monitor, or a personal stack's DNS record), each region as a subgraph with its VPC,
clusters, gateways, workloads and platform releases, and the shared assets. Solid arrows
are traffic (users → load balancer → pools → gateways → workloads); dotted arrows are
ownership (a VPC holds its clusters, a cluster runs its gateways and workloads; a monitor
checks pools). GitHub renders the output in Markdown files and pull-request comments.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ops import plandoc
from ops.plandoc import Document, Resource
from ops.stack_config import ROOT


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


def _routed_services(document: Document, provider: str | None) -> set[str] | None:
    """Service names the cluster's HTTPRoutes send traffic to; None when it has no routes."""
    routes = [
        r
        for r in document["resources"]
        if r.get("provider") == provider and plandoc.is_kind(r, "gateway.networking.k8s.io", "HTTPRoute")
    ]
    if not routes:
        return None
    names: set[str] = set()
    for route in routes:
        for rule in plandoc.get_path(route["inputs"], "spec.rules") or []:
            for backend in (rule or {}).get("backendRefs") or []:
                if isinstance(backend, dict) and backend.get("name"):
                    names.add(str(backend["name"]))
    return names


def _served(document: Document, deployment: Resource, services: set[str] | None) -> bool:
    """Whether traffic from the gateway reaches a Deployment: through a routed Service
    whose selector matches its pods (every Deployment when the cluster has no routes)."""
    if services is None:
        return True
    labels = plandoc.get_path(deployment["inputs"], "spec.template.metadata.labels") or {}
    for service in document["resources"]:
        if service.get("provider") != deployment.get("provider") or not plandoc.is_kind(service, "core", "Service"):
            continue
        name = plandoc.get_path(service["inputs"], "metadata.name") or service["name"]
        selector = plandoc.get_path(service["inputs"], "spec.selector") or {}
        if name in services and selector and all(labels.get(k) == v for k, v in selector.items()):
            return True
    return False


def _edge_section(chart: _Chart, document: Document, regions: list[str]) -> tuple[list[str], dict[str, str]]:
    """The Cloudflare subgraph; returns the entry nodes users reach and pool ids by urn."""
    balancers = plandoc.of_type(document, plandoc.CF_LOAD_BALANCER)
    pools = plandoc.of_type(document, plandoc.CF_POOL)
    monitors = plandoc.of_type(document, plandoc.CF_MONITOR)
    records = plandoc.of_type(document, plandoc.CF_DNS_RECORD)
    if not (balancers or pools or monitors or records):
        return [], {}
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
        pool_ids[pool["urn"]] = chart.node(2, pool["urn"], pool["name"], BOX, label)
    chart.lines.append("    end")

    for lb in balancers:
        # The load balancer refers to its pools, so they are among its dependencies.
        targets = [p for p in pools if p["urn"] in (lb.get("dependencies") or [])] or pools
        for pool in targets:
            chart.edge(chart.ids[lb["urn"]], pool_ids[pool["urn"]])
    for monitor in monitors:
        for pool in pools:
            if monitor["urn"] in (pool.get("dependencies") or []) or len(monitors) == 1:
                chart.edge(chart.ids[monitor["urn"]], pool_ids[pool["urn"]], "-.->", "checks")
    return entries, pool_ids


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
        chart.node(2, pool["urn"], pool["name"], BOX, f"node pool {pool['inputs'].get('size', '')}".strip())

    def owned_by_cluster(resource: Resource) -> None:
        cluster = plandoc.cluster_of(resource, clusters_by_provider)
        if cluster and cluster["urn"] in chart.ids:
            chart.edge(chart.ids[cluster["urn"]], chart.ids[resource["urn"]], "-.->", "runs")

    for gateway in (r for r in members if plandoc.is_gateway(r) or plandoc.is_load_balancer_service(r)):
        what = "Gateway" if plandoc.is_gateway(gateway) else "Service (LoadBalancer)"
        chart.node(2, gateway["urn"], gateway["name"], LOAD_BALANCER, f"{what} {gateway['name']}<br/>DigitalOcean LB")
        owned_by_cluster(gateway)
    for deployment in (r for r in members if plandoc.is_deployment(r)):
        replicas = plandoc.get_path(deployment["inputs"], "spec.replicas")
        label = f"{deployment['name']}" + (f"<br/>{replicas} replicas" if isinstance(replicas, int) else "")
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


def _traffic(chart: _Chart, document: Document, regions: list[str], entries: list[str], pool_ids: dict[str, str]) -> None:
    by_region: dict[str, list[Resource]] = {}
    for resource in document["resources"]:
        if resource.get("region") and (plandoc.is_gateway(resource) or plandoc.is_load_balancer_service(resource)):
            by_region.setdefault(resource["region"], []).append(resource)
    clusters = {r["region"]: [c for c in plandoc.of_type(document, plandoc.DOKS) if c.get("region") == r["region"]]
                for r in document["resources"] if r.get("region")}  # fmt: skip

    def region_entries(region: str | None) -> list[str]:
        """Where traffic for a region lands: its gateways, else (before workloads exist) its clusters."""
        if region is None:
            return []
        targets = by_region.get(region) or clusters.get(region) or []
        return [chart.ids[t["urn"]] for t in targets if t["urn"] in chart.ids]

    pools = plandoc.of_type(document, plandoc.CF_POOL)
    for pool in pools:
        for target in region_entries(plandoc.region_hint(pool, regions)):
            chart.edge(pool_ids[pool["urn"]], target)
    for record in plandoc.of_type(document, plandoc.CF_DNS_RECORD):
        region = plandoc.region_hint(record, regions) or (regions[0] if len(regions) == 1 else None)
        for target in region_entries(region):
            chart.edge(chart.ids[record["urn"]], target)

    for gateways in by_region.values():
        for gateway in gateways:
            services = _routed_services(document, gateway.get("provider"))
            for deployment in document["resources"]:
                if (
                    plandoc.is_deployment(deployment)
                    and deployment.get("provider") == gateway.get("provider")
                    and _served(document, deployment, services)
                ):
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
    edge_entries, pool_ids = _edge_section(chart, document, regions)
    for region in regions:
        _region_section(chart, document, region, clusters_by_provider)
    asset_entries = _assets_section(chart, document)
    _traffic(chart, document, regions, [*edge_entries, *asset_entries], pool_ids)
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
    from ops.engine import PlanError, run_plan
    from ops.plan import plan_document

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
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
