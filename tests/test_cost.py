"""Monthly cost estimates: every item priced from data/prices.yaml with its quantity, the
min and max totals, and the change a diff shows."""

from __future__ import annotations

import pytest

from ops import plandoc
from ops.cli import main
from ops.cost import cost_change, estimate_cost, load_prices, render_cost
from tests import plandocs
from tests.plandocs import full_stack, real

# A price table of round numbers, so each expected total is plain arithmetic.
PRICES = {
    "date": "2026-01-01",
    "currency": "USD",
    "droplets": {"s-2vcpu-4gb": {"monthly": 20}, "s-4vcpu-8gb": {"monthly": 40}},
    "kubernetes": {"controlPlane": 0, "haControlPlane": 30},
    "loadBalancer": {"perNode": 10, "defaultSizeUnits": 1},
    "spaces": {"subscription": 5, "cdn": 0},
    "cloudflare": {
        "loadBalancingBase": 5,
        "includedOrigins": 2,
        "perExtraOrigin": 5,
        "perRegionSteering": 10,
        "steeringAddOnPolicies": ["dynamic_latency", "geo", "proximity"],
    },
}


def test_dev_costs_its_node_pool_at_min_and_max_and_the_spaces_subscription():
    estimate = estimate_cost(real("dev"), PRICES)
    labels = [(item.label, item.unit_price, item.min_quantity, item.max_quantity) for item in estimate.items]
    assert labels == [
        ("nyc3-doks nodes (s-2vcpu-4gb)", 20, 1, 2),
        ("Spaces subscription", 5, 1, 1),
        ("assets-cdn CDN endpoint", 0, 1, 1),
    ]
    assert (estimate.min_total, estimate.max_total) == (25, 45)
    assert not estimate.warnings


def test_production_pays_five_pools_and_five_ha_control_planes():
    estimate = estimate_cost(real("production"), PRICES)
    nodes = [i for i in estimate.items if i.unit == "node"]
    planes = [i for i in estimate.items if i.label.endswith("HA control plane")]
    assert len(nodes) == len(planes) == 5
    assert all((i.unit_price, i.min_quantity, i.max_quantity) == (40, 3, 10) for i in nodes)
    assert (estimate.min_total, estimate.max_total) == (5 * (120 + 30) + 5, 5 * (400 + 30) + 5)


def test_gateways_pay_a_load_balancer_sized_from_their_proxy_and_the_edge_pays_cloudflare():
    document = full_stack("production", ["nyc3", "fra1", "sgp1"], lb_size_unit=2)
    estimate = estimate_cost(document, PRICES)
    lbs = [i for i in estimate.items if i.unit == "LB node"]
    assert sorted((i.label, i.min_quantity, i.unit_price, i.note) for i in lbs) == [
        (f"{r}-gateway load balancer (gateway)", 2, 10, "") for r in ("fra1", "nyc3", "sgp1")
    ]
    cloudflare = {i.key: (i.min_quantity, i.unit_price) for i in estimate.items if i.key.startswith("cloudflare:")}
    # Three origins: one beyond the two the base price includes; latency steering is an add-on.
    assert cloudflare == {"cloudflare:load-balancing": (1, 5), "cloudflare:origins": (1, 5), "cloudflare:steering": (1, 10)}


def test_an_unsized_load_balancer_counts_the_default_unit_and_says_so():
    document = full_stack("staging", ["nyc3"], lb_size_unit=None)
    plandocs.add(
        document,
        plandocs.SERVICE,
        "nyc3-debug-lb",
        {"spec": {"type": "LoadBalancer"}, "metadata": {"annotations": {plandoc.LB_SIZE_UNIT_ANNOTATION: "3"}}},
        region="nyc3",
    )
    lbs = {i.label: (i.min_quantity, i.note) for i in estimate_cost(document, PRICES).items if i.unit == "LB node"}
    assert lbs["nyc3-gateway load balancer (gateway)"] == (1, "size unit not in the plan: DigitalOcean's default 1 assumed")
    assert lbs["nyc3-debug-lb load balancer (service)"] == (3, "")


def test_a_personal_stack_behind_a_dns_record_pays_no_load_balancing():
    estimate = estimate_cost(full_stack("dev-alice"), PRICES)
    assert not [i for i in estimate.items if i.key.startswith("cloudflare:")]


def test_off_steering_needs_no_add_on():
    document = real("staging", ["nyc3", "fra1"])
    gateways = {r: plandocs.add_workloads(document, r)["gateway"] for r in ("nyc3", "fra1")}
    plandocs.add_edge(document, gateways, steering="off")
    keys = [i.key for i in estimate_cost(document, PRICES).items if i.key.startswith("cloudflare:")]
    assert keys == ["cloudflare:load-balancing"]


def test_a_size_without_a_price_is_a_warning_not_a_guess():
    document = real("dev")
    plandocs.find(document, plandoc.DOKS, "nyc3-doks")["inputs"]["nodePool"]["size"] = "m-64vcpu-512gb"
    estimate = estimate_cost(document, PRICES)
    assert estimate.items[0].unit_price == 0
    assert estimate.warnings == ["nyc3-doks: droplet size 'm-64vcpu-512gb' has no price in data/prices.yaml (counted as 0)"]


def test_adding_a_region_costs_one_more_node_pool():
    change = cost_change(real("dev"), real("dev", ["nyc3", "fra1"]), PRICES)
    assert [(old, new.label if new else None) for old, new in change.items] == [(None, "fra1-doks nodes (s-2vcpu-4gb)")]
    assert (change.min_delta, change.max_delta) == (20, 40)


def test_a_base_without_the_stack_costs_nothing():
    change = cost_change(None, real("dev"), PRICES)
    assert change.before.items == []
    assert (change.min_delta, change.max_delta) == (25, 45)


def test_the_price_file_is_dated_sourced_and_complete():
    prices = load_prices()
    assert prices["date"] and prices["sources"]["digitalocean"] and prices["sources"]["cloudflare"]
    for key in ("perNode", "defaultSizeUnits"):
        assert key in prices["loadBalancer"]
    for key in ("loadBalancingBase", "includedOrigins", "perExtraOrigin", "perRegionSteering", "steeringAddOnPolicies"):
        assert key in prices["cloudflare"]
    # Every stack's sizes are priced with the real file.
    for stack in ("dev", "staging", "production"):
        assert not estimate_cost(real(stack)).warnings


def test_the_table_shows_quantity_unit_price_and_both_totals():
    text = render_cost(real("dev"), PRICES)
    assert "Estimated monthly cost (USD, list prices of 2026-01-01" in text
    assert "nyc3-doks nodes (s-2vcpu-4gb)  1\u20132 \u00d7 node" in text
    total = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert total.split()[-2:] == ["$25", "$45"]


def test_ops_plan_prints_the_cost_table_and_the_deploy_critical_path(capsys: pytest.CaptureFixture[str]):
    assert main(["plan", "--stack", "staging"]) == 0
    out = capsys.readouterr().out
    assert "Estimated monthly cost" in out
    assert "sgp1-doks nodes (s-2vcpu-4gb)" in out
    assert "Deploy time of a fresh `pulumi up` (critical path, data/deploy-times.yaml): ~7m 10s" in out
