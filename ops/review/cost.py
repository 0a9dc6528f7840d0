"""The estimated monthly cost of a stack, from its plan document and data/prices.yaml.

Each item says what is billed, how many (at the node pools' minimum and maximum size) and
the unit price, so a reviewer can check the arithmetic. Estimates use list prices and leave
out usage (bandwidth, storage beyond the included amount, DNS queries): they answer "what
does this change add to the bill", not "what will the invoice say".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.prices import prices as load_prices
from ops.review import plandoc
from ops.review.plandoc import Document, Resource


@dataclass(frozen=True)
class CostItem:
    # Stable across two plans of one stack, so a diff can pair items up.
    key: str
    label: str
    unit: str
    unit_price: float
    min_quantity: int
    max_quantity: int
    note: str = ""

    @property
    def min_monthly(self) -> float:
        return self.unit_price * self.min_quantity

    @property
    def max_monthly(self) -> float:
        return self.unit_price * self.max_quantity


@dataclass(frozen=True)
class CostEstimate:
    items: list[CostItem]
    currency: str
    date: str
    warnings: list[str] = field(default_factory=list)

    @property
    def min_total(self) -> float:
        return sum(item.min_monthly for item in self.items)

    @property
    def max_total(self) -> float:
        return sum(item.max_monthly for item in self.items)


def _int(value: Any, default: int) -> int:
    # Plan inputs may be redacted or unknown strings; those fall back rather than fail.
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _pool_counts(pool: Mapping[str, Any]) -> tuple[int, int]:
    if pool.get("autoScale"):
        low = _int(pool.get("minNodes"), _int(pool.get("nodeCount"), 1))
        return low, _int(pool.get("maxNodes"), low)
    count = _int(pool.get("nodeCount"), _int(pool.get("minNodes"), 1))
    return count, count


def _size_units(value: Any, default: int) -> tuple[int, bool]:
    """(units, found): annotations are strings, the DigitalOcean resource's input a number."""
    if isinstance(value, bool):
        return default, False
    if isinstance(value, int):
        return value, True
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()), True
    return default, False


def _cluster_items(document: Document, prices: Mapping[str, Any], warnings: list[str]) -> list[CostItem]:
    """Per cluster its nodes and control plane, then the extra node pools."""
    droplets = prices.get("droplets") or {}
    kubernetes = prices.get("kubernetes") or {}
    items = []

    def nodes(resource: Resource, pool: Mapping[str, Any]) -> CostItem:
        size = str(pool.get("size", "?"))
        low, high = _pool_counts(pool)
        price = droplets.get(size, {}).get("monthly")
        if price is None:
            warnings.append(f"{resource['name']}: droplet size {size!r} has no price in data/prices.yaml (counted as 0)")
        return CostItem(
            key=f"nodes:{resource['urn']}",
            label=f"{resource['name']} nodes ({size})",
            unit="node",
            unit_price=float(price or 0),
            min_quantity=low,
            max_quantity=high,
        )

    for cluster in plandoc.of_type(document, plandoc.DOKS):
        items.append(nodes(cluster, cluster["inputs"].get("nodePool") or {}))
        ha = cluster["inputs"].get("ha") is True
        price = float(kubernetes.get("haControlPlane" if ha else "controlPlane", 0))
        if price:
            items.append(
                CostItem(
                    key=f"control-plane:{cluster['urn']}",
                    label=f"{cluster['name']} {'HA ' if ha else ''}control plane",
                    unit="cluster",
                    unit_price=price,
                    min_quantity=1,
                    max_quantity=1,
                )
            )
    items += [nodes(pool, pool["inputs"]) for pool in plandoc.of_type(document, plandoc.NODE_POOL)]
    return items


def _load_balancer_items(document: Document, prices: Mapping[str, Any]) -> list[CostItem]:
    per_unit = float(prices.get("perNode", 0))
    default = int(prices.get("defaultSizeUnits", 1))
    clusters = plandoc.provider_cluster(document)
    items = []
    for resource in plandoc.by_name(document["resources"]):
        if plandoc.is_gateway(resource):
            # The load balancer is made by the cluster for the Service Envoy Gateway puts in
            # front of the Gateway's proxies: not a resource of the plan, so the Gateway
            # stands for it, sized by the annotations that Service gets.
            service_type, annotations = plandoc.gateway_service(resource, document, clusters)
            if service_type != "LoadBalancer":
                continue
            units, found = _size_units(annotations.get(plandoc.LB_SIZE_UNIT_ANNOTATION), default)
            what = "gateway"
        elif plandoc.is_load_balancer_service(resource):
            annotations = plandoc.get_path(resource["inputs"], "metadata.annotations") or {}
            units, found = _size_units(annotations.get(plandoc.LB_SIZE_UNIT_ANNOTATION), default)
            what = "service"
        elif resource["type"] == plandoc.DO_LOAD_BALANCER:
            units, found = _size_units(resource["inputs"].get("sizeUnit"), default)
            what = "load balancer"
        else:
            continue
        items.append(
            CostItem(
                key=f"load-balancer:{resource['urn']}",
                label=f"{resource['name']} load balancer ({what})",
                unit="LB node",
                unit_price=per_unit,
                min_quantity=units,
                max_quantity=units,
                note="" if found else f"size unit not in the plan: DigitalOcean's default {default} assumed",
            )
        )
    return items


def _spaces_items(document: Document, spaces: Mapping[str, Any]) -> list[CostItem]:
    items = []
    buckets = plandoc.of_type(document, plandoc.BUCKET)
    if buckets:
        items.append(
            CostItem(
                key="spaces",
                label="Spaces subscription",
                unit="account",
                unit_price=float(spaces.get("subscription", 0)),
                min_quantity=1,
                max_quantity=1,
                # One subscription covers every bucket of the account, so stacks that share
                # an account share it too.
                note=f"covers {len(buckets)} bucket(s); shared by stacks in one account",
            )
        )
    for cdn in plandoc.of_type(document, plandoc.CDN):
        items.append(
            CostItem(
                key=f"cdn:{cdn['urn']}",
                label=f"{cdn['name']} CDN endpoint",
                unit="endpoint",
                unit_price=float(spaces.get("cdn", 0)),
                min_quantity=1,
                max_quantity=1,
                note="included with Spaces",
            )
        )
    return items


def _cloudflare_items(document: Document, cloudflare: Mapping[str, Any]) -> list[CostItem]:
    balancers = plandoc.of_type(document, plandoc.CF_LOAD_BALANCER)
    if not balancers:
        # Personal stacks use a proxied DNS record instead: free.
        return []
    items = [
        CostItem(
            key="cloudflare:load-balancing",
            label="Cloudflare load balancing",
            unit="subscription",
            unit_price=float(cloudflare.get("loadBalancingBase", 0)),
            min_quantity=1,
            max_quantity=1,
            note=f"{len(balancers)} load balancer(s)",
        )
    ]
    origins = sum(len(pool["inputs"].get("origins") or []) for pool in plandoc.of_type(document, plandoc.CF_POOL))
    included = int(cloudflare.get("includedOrigins", 0))
    if origins > included:
        items.append(
            CostItem(
                key="cloudflare:origins",
                label=f"Cloudflare origins beyond {included} included ({origins} in all)",
                unit="origin",
                unit_price=float(cloudflare.get("perExtraOrigin", 0)),
                min_quantity=origins - included,
                max_quantity=origins - included,
            )
        )
    add_on = set(cloudflare.get("steeringAddOnPolicies") or [])
    policies = sorted({str(lb["inputs"].get("steeringPolicy")) for lb in balancers} & add_on)
    if policies:
        items.append(
            CostItem(
                key="cloudflare:steering",
                label=f"Cloudflare steering add-on ({', '.join(policies)})",
                unit="add-on",
                unit_price=float(cloudflare.get("perRegionSteering", 0)),
                min_quantity=1,
                max_quantity=1,
            )
        )
    return items


UNCONFIRMED = "price unconfirmed (data/prices.yaml)"


def _observability_items(document: Document, prices: Mapping[str, Any], warnings: list[str]) -> list[CostItem]:
    """The log store (nodes x size), uptime checks, and what is believed free (monitor
    alert policies, VPC peerings), each saying when its price is unconfirmed."""
    items = []
    opensearch = prices.get("opensearch") or {}
    for database in plandoc.of_type(document, plandoc.DATABASE):
        size = str(database["inputs"].get("size", "?"))
        count = _int(database["inputs"].get("nodeCount"), 1)
        price = (opensearch.get("nodes") or {}).get(size, {}).get("monthly")
        if price is None:
            warnings.append(f"{database['name']}: OpenSearch size {size!r} has no price in data/prices.yaml (counted as 0)")
        items.append(
            CostItem(
                key=f"database:{database['urn']}",
                label=f"{database['name']} {database['inputs'].get('engine', 'database')} ({size})",
                unit="node",
                unit_price=float(price or 0),
                min_quantity=count,
                max_quantity=count,
                note="" if opensearch.get("confirmed") else UNCONFIRMED,
            )
        )
    for type_, key, label, unit, section, price_key in (
        (plandoc.UPTIME_CHECK, "uptime-checks", "Uptime checks", "check", "uptime", "perCheck"),
        (plandoc.MONITOR_ALERT, "monitor-alerts", "Monitor alert policies", "policy", "monitoring", "alertPolicy"),
        (plandoc.VPC_PEERING, "vpc-peerings", "VPC peerings", "peering", "vpcPeering", "perPeering"),
    ):
        count = len(plandoc.of_type(document, type_))
        if count:
            table = prices.get(section) or {}
            items.append(
                CostItem(
                    key=key,
                    label=label,
                    unit=unit,
                    unit_price=float(table.get(price_key, 0)),
                    min_quantity=count,
                    max_quantity=count,
                    note="" if table.get("confirmed") else UNCONFIRMED,
                )
            )
    return items


def estimate_cost(document: Document, prices: Mapping[str, Any] | None = None) -> CostEstimate:
    prices = load_prices() if prices is None else prices
    warnings: list[str] = []
    items = [
        *_cluster_items(document, prices, warnings),
        *_load_balancer_items(document, prices.get("loadBalancer") or {}),
        *_spaces_items(document, prices.get("spaces") or {}),
        *_cloudflare_items(document, prices.get("cloudflare") or {}),
        *_observability_items(document, prices, warnings),
    ]
    return CostEstimate(
        items=items, currency=str(prices.get("currency", "USD")), date=str(prices.get("date", "?")), warnings=warnings
    )


# Typographic marks spelled as escapes: the linter reads the literal characters as typos.
EN_DASH = "\u2013"
TIMES = "\u00d7"


def money(amount: float) -> str:
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def signed_money(amount: float) -> str:
    sign = "+" if amount > 0 else "-" if amount < 0 else "±"
    return f"{sign}{money(abs(amount))}"


def quantity(item: CostItem) -> str:
    low, high = item.min_quantity, item.max_quantity
    count = str(low) if low == high else f"{low}{EN_DASH}{high}"
    return f"{count} {TIMES} {item.unit}"


def render_estimate(estimate: CostEstimate) -> str:
    header = ("item", "quantity", "unit price", "min", "max", "note")
    rows = [
        (item.label, quantity(item), money(item.unit_price), money(item.min_monthly), money(item.max_monthly), item.note)
        for item in estimate.items
    ]
    rows.append(("total", "", "", money(estimate.min_total), money(estimate.max_total), ""))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return (
            "    "
            + "  ".join(cell.rjust(widths[i]) if 2 <= i <= 4 else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        )

    lines = [
        f"Estimated monthly cost ({estimate.currency}, list prices of {estimate.date} in data/prices.yaml; "
        "min and max node-pool sizes, usage not included):",
        line(header),
        *(line(row) for row in rows),
    ]
    lines += [f"    warning: {warning}" for warning in estimate.warnings]
    return "\n".join(lines) + "\n"


def render_cost(document: Document, prices: Mapping[str, Any] | None = None) -> str:
    """The cost table `ops plan` prints under the plan."""
    return render_estimate(estimate_cost(document, prices))


@dataclass(frozen=True)
class CostChange:
    before: CostEstimate
    after: CostEstimate
    # (before item or None, after item or None) for every item whose cost changed
    items: list[tuple[CostItem | None, CostItem | None]]

    @property
    def min_delta(self) -> float:
        return self.after.min_total - self.before.min_total

    @property
    def max_delta(self) -> float:
        return self.after.max_total - self.before.max_total


def cost_change(before: Document | None, after: Document, prices: Mapping[str, Any] | None = None) -> CostChange:
    """The change in monthly cost between two plans, priced with one price table so that
    only the plan's change shows (a base without the stack costs nothing)."""
    prices = load_prices() if prices is None else prices
    old = estimate_cost(before, prices) if before else CostEstimate([], str(prices.get("currency", "USD")), "")
    new = estimate_cost(after, prices)
    old_items = {item.key: item for item in old.items}
    new_items = {item.key: item for item in new.items}
    changed: list[tuple[CostItem | None, CostItem | None]] = []
    for key in [*old_items, *(k for k in new_items if k not in old_items)]:
        a, b = old_items.get(key), new_items.get(key)
        if a is None or b is None or (a.min_monthly, a.max_monthly, a.label) != (b.min_monthly, b.max_monthly, b.label):
            changed.append((a, b))
    return CostChange(before=old, after=new, items=changed)


def range_text(low: float, high: float) -> str:
    return money(low) if low == high else f"{money(low)}{EN_DASH}{money(high)}"


def delta_text(low: float, high: float) -> str:
    return signed_money(low) if low == high else f"{signed_money(low)} / {signed_money(high)}"
