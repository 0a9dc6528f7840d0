"""Cost: a dev stack must not be able to run up a production-sized bill.

The estimate is the worst case the stack can reach without another deploy, from the list
prices in data/prices.yaml: every node pool at its maximum size, HA control planes, one
DigitalOcean load balancer per LoadBalancer Service and per Gateway (times its size unit),
the Spaces subscription, Cloudflare Load Balancing with its extra origins and steering
add-on, the log store's nodes and the uptime checks. Not counted: volumes, bandwidth
overage, container registry.

The budget is the policy's config, e.g. `pulumi preview --policy-pack policy
--policy-pack-config policy/policy-config.json` with
{"cost-dev-monthly-budget": {"maxMonthlyUsd": 150}}; $150 when none is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    PolicyResource,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.prices import prices
from policy.clusters import CLUSTER, NODE_POOL
from policy.common import UNKNOWN, Report, elements, is_true, kind_of, peek, whole
from policy.edge import GATEWAY, LOAD_BALANCER, POOL, SERVICE, envoy_proxy_of
from policy.storage import BUCKET

DEFAULT_BUDGET_USD = 150.0
SIZE_UNIT_ANNOTATION = "service.beta.kubernetes.io/do-loadbalancer-size-unit"
DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
UPTIME_CHECK = "digitalocean:index/uptimeCheck:UptimeCheck"
# Cloudflare's traffic steering add-on covers these policies.
STEERING_ADD_ON = frozenset({"dynamic_latency", "geo", "proximity"})


class UnpricedError(Exception):
    """A resource the estimate cannot price: refusing is safer than guessing low."""


def _droplet(size: Any, table: Mapping[str, Any]) -> float:
    droplets = table.get("droplets") or {}
    if size is UNKNOWN or size not in droplets:
        raise UnpricedError(f"droplet size {size!r} is not in data/prices.yaml")
    return float(droplets[size]["monthly"])


def _pool_nodes(pool: Any) -> int:
    """Nodes a pool can reach: its maximum when it autoscales, else its count."""
    field = "maxNodes" if is_true(peek(pool, "autoScale")) else "nodeCount"
    count = whole(peek(pool, field))
    if count is None:
        raise UnpricedError(f"node pool without a known {field}")
    return count


def _size_unit(annotations: Any) -> int:
    value = peek(annotations, SIZE_UNIT_ANNOTATION)
    try:
        return max(1, int(str(value))) if value not in (None, UNKNOWN) else 1
    except ValueError:
        return 1


def estimate(resources: list[PolicyResource], table: Mapping[str, Any] | None = None) -> list[tuple[str, float]]:
    """(what, monthly USD) of everything that costs money, at full scale."""
    table = prices() if table is None else table
    lines: list[tuple[str, float]] = []
    kubernetes = table.get("kubernetes") or {}
    per_lb_node = float((table.get("loadBalancer") or {}).get("perNode", 0))
    for resource in resources:
        props = resource.props
        if resource.resource_type == CLUSTER:
            pool = peek(props, "nodePool")
            nodes, size = _pool_nodes(pool), peek(pool, "size")
            lines.append((f"{resource.name}: {nodes} x {size}", nodes * _droplet(size, table)))
            if is_true(peek(props, "ha")):
                lines.append((f"{resource.name}: HA control plane", float(kubernetes.get("haControlPlane", 0))))
            else:
                lines.append((f"{resource.name}: control plane", float(kubernetes.get("controlPlane", 0))))
        elif resource.resource_type == NODE_POOL:
            nodes, size = _pool_nodes(props), peek(props, "size")
            lines.append((f"{resource.name}: {nodes} x {size}", nodes * _droplet(size, table)))
        elif resource.resource_type == SERVICE and peek(props, "spec", "type") == "LoadBalancer":
            units = _size_unit(peek(props, "metadata", "annotations"))
            lines.append((f"{resource.name}: load balancer, {units} node(s)", units * per_lb_node))
        elif resource.resource_type == GATEWAY:
            # Each Gateway gets a DigitalOcean load balancer of its own.
            proxy = envoy_proxy_of(resource, resources)
            annotations = peek(proxy.props, "spec", "provider", "kubernetes", "envoyService", "annotations") if proxy else None
            units = _size_unit(annotations)
            lines.append((f"{resource.name}: gateway load balancer, {units} node(s)", units * per_lb_node))
        elif resource.resource_type == DATABASE:
            size, count = peek(props, "size"), whole(peek(props, "nodeCount"))
            per_node = ((table.get("opensearch") or {}).get("nodes") or {}).get(str(size), {}).get("monthly")
            if per_node is None or count is None:
                raise UnpricedError(f"database size {size!r} x {count} node(s) is not priced in data/prices.yaml")
            lines.append((f"{resource.name}: {count} x {size}", count * float(per_node)))
        elif resource.resource_type == UPTIME_CHECK:
            lines.append((f"{resource.name}: uptime check", float((table.get("uptime") or {}).get("perCheck", 0))))

    if any(r.resource_type == BUCKET for r in resources):
        lines.append(("Spaces subscription", float((table.get("spaces") or {}).get("subscription", 0))))

    balancers = [r for r in resources if r.resource_type == LOAD_BALANCER]
    if balancers:
        cloudflare = table.get("cloudflare") or {}
        origins = sum(len(elements(peek(r.props, "origins"))) for r in resources if r.resource_type == POOL)
        lines.append(("Cloudflare Load Balancing", float(cloudflare.get("loadBalancingBase", 0))))
        if origins > 2:
            lines.append(
                (f"Cloudflare: {origins - 2} origin(s) beyond 2", (origins - 2) * float(cloudflare.get("perExtraOrigin", 0)))
            )
        if any(peek(r.props, "steeringPolicy") in STEERING_ADD_ON for r in balancers):
            lines.append(("Cloudflare traffic steering", float(cloudflare.get("perRegionSteering", 0))))
    return lines


def budget(config: Mapping[str, Any]) -> float:
    value = config.get("maxMonthlyUsd", DEFAULT_BUDGET_USD)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else DEFAULT_BUDGET_USD


def _dev_budget(args: StackValidationArgs, report: Report) -> None:
    if not args.resources or kind_of(args.resources[0].urn) != "dev":
        return
    limit = budget(args.get_config())
    try:
        lines = estimate(list(args.resources))
    except UnpricedError as error:
        report(f"cannot estimate this dev stack's cost: {error}")
        return
    total = sum(usd for _, usd in lines)
    if total > limit:
        biggest = ", ".join(f"{what} ${usd:g}" for what, usd in sorted(lines, key=lambda line: -line[1])[:5])
        report(
            f"this dev stack could cost ${total:g}/month at full scale, above its budget of ${limit:g} "
            f"(policy config cost-dev-monthly-budget.maxMonthlyUsd). Largest items: {biggest}"
        )


dev_budget = StackValidationPolicy(
    name="cost-dev-monthly-budget",
    description="A dev stack's worst-case monthly cost stays within the budget (default $150).",
    validate=_dev_budget,
    config_schema=PolicyConfigSchema(
        properties={"maxMonthlyUsd": {"type": "number", "minimum": 0, "default": DEFAULT_BUDGET_USD}},
    ),
)

POLICIES = [dev_budget]
