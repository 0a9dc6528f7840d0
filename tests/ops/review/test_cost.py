"""Monthly cost estimates of the real plans: every item priced from data/prices.yaml with
its quantity, the min and max totals, and the change a diff shows. Expected amounts are
worked out here from the price table and the settings each stack was planned from, never
read back from the estimator."""

from __future__ import annotations

import re

import pytest

from components.gateway import load_balancer_annotations
from ops.cli import main
from ops.review import plandoc
from ops.review.cost import cost_change, estimate_cost, load_prices, money, render_cost
from ops.review.deploytime import render_fresh_deploy
from ops.review.plan import plan_document
from tests import plandocs
from tests.conftest import plan_of
from tests.plandocs import DEV_TWO_REGIONS, real, settings_of, upgrade_steps

PRICES = load_prices()
TWO = DEV_TWO_REGIONS["marketplace:regions"]


def expected_totals(stack: str, regions: list[str] | None = None, generations: int = 0) -> tuple[float, float]:
    """(min, max) monthly total of a stack, from its settings and the price table: per
    cluster its system and workers nodes at each pool's min and max, its control plane and its gateway's load
    balancer; the Spaces subscription (one bucket, its CDN free); for a load-balanced edge,
    Cloudflare's base, the origins beyond the included ones (one per cluster) and the
    steering add-on; with monitoring, an internal load balancer per cluster but the hub's;
    the log store's nodes; two uptime checks. `generations` counts clusters beyond one per
    region."""
    settings = settings_of(stack, regions)
    pool, system = settings.cluster.node_pool, settings.cluster.system_pool
    node, system_node = PRICES["droplets"][pool.size]["monthly"], PRICES["droplets"][system.size]["monthly"]
    plane = PRICES["kubernetes"]["haControlPlane" if settings.cluster.ha_control_plane else "controlPlane"]
    gateway_lb = settings.workloads.gateway.load_balancer_size_unit * PRICES["loadBalancer"]["perNode"]
    clusters = len(settings.regions) + generations
    fixed = PRICES["spaces"]["subscription"] + PRICES["spaces"]["cdn"]
    if settings.edge.load_balanced:
        cloudflare = PRICES["cloudflare"]
        fixed += cloudflare["loadBalancingBase"] + max(0, clusters - cloudflare["includedOrigins"]) * cloudflare["perExtraOrigin"]
        if settings.edge.steering_policy in cloudflare["steeringAddOnPolicies"]:
            fixed += cloudflare["perRegionSteering"]
    if settings.monitoring.enabled:
        fixed += (clusters - 1) * PRICES["loadBalancer"]["perNode"]
    store = settings.monitoring.log_store
    if store.enabled:
        fixed += store.node_count * PRICES["opensearch"]["nodes"][store.size]["monthly"]
    fixed += 2 * PRICES["uptime"]["perCheck"] + 3 * PRICES["monitoring"]["alertPolicy"]
    low = node * pool.min_nodes + system_node * system.min_nodes + plane + gateway_lb
    high = node * pool.max_nodes + system_node * system.max_nodes + plane + gateway_lb
    return clusters * low + fixed, clusters * high + fixed


def items_by_label(document: dict) -> dict[str, tuple[float, int, int, str]]:
    return {i.label: (i.unit_price, i.min_quantity, i.max_quantity, i.note) for i in estimate_cost(document, PRICES).items}


def lb_units(document: dict) -> dict[str, tuple[int, str]]:
    return {i.label: (i.min_quantity, i.note) for i in estimate_cost(document, PRICES).items if i.unit == "LB node"}


def test_production_pays_five_pools_five_ha_control_planes_five_gateway_lbs_and_the_edge():
    settings = settings_of("production")
    regions, pool, system = settings.regions, settings.cluster.node_pool, settings.cluster.system_pool
    units = settings.workloads.gateway.load_balancer_size_unit
    # What the numbers below rest on: five regions of an autoscaled pool, HA control planes,
    # gateways sized up, latency steering across five origins (two included in the base).
    assert (len(regions), pool.min_nodes, pool.max_nodes, settings.cluster.ha_control_plane, units) == (5, 3, 10, True, 2)
    assert settings.edge.steering_policy in PRICES["cloudflare"]["steeringAddOnPolicies"]
    node, cloudflare = PRICES["droplets"][pool.size]["monthly"], PRICES["cloudflare"]
    extra = len(regions) - cloudflare["includedOrigins"]
    system_node = PRICES["droplets"][system.size]["monthly"]
    expected = {
        **{f"{r}-doks nodes ({system.size})": (system_node, system.min_nodes, system.max_nodes, "") for r in regions},
        **{f"{r}-workers nodes ({pool.size})": (node, pool.min_nodes, pool.max_nodes, "") for r in regions},
        **{f"{r}-doks HA control plane": (PRICES["kubernetes"]["haControlPlane"], 1, 1, "") for r in regions},
        **{
            f"{r}-gateway-gateway load balancer (gateway)": (PRICES["loadBalancer"]["perNode"], units, units, "") for r in regions
        },
        "Spaces subscription": (PRICES["spaces"]["subscription"], 1, 1, "covers 1 bucket(s); shared by stacks in one account"),
        "assets-cdn CDN endpoint": (PRICES["spaces"]["cdn"], 1, 1, "included with Spaces"),
        "Cloudflare load balancing": (cloudflare["loadBalancingBase"], 1, 1, "1 load balancer(s)"),
        f"Cloudflare origins beyond 2 included ({len(regions)} in all)": (cloudflare["perExtraOrigin"], extra, extra, ""),
        "Cloudflare steering add-on (proximity)": (cloudflare["perRegionSteering"], 1, 1, ""),
        # The one pane: every Prometheus but the hub's on an internal load balancer.
        **{
            f"{r}-monitoring-prometheus-internal load balancer (service)": (PRICES["loadBalancer"]["perNode"], 1, 1, "")
            for r in regions
            if r != settings.monitoring.hub_region
        },
        "logs-opensearch opensearch (db-s-2vcpu-4gb)": (
            PRICES["opensearch"]["nodes"]["db-s-2vcpu-4gb"]["monthly"],
            3,
            3,
            "price unconfirmed (data/prices.yaml)",
        ),
        "Uptime checks": (PRICES["uptime"]["perCheck"], 2, 2, ""),
        "Monitor alert policies": (0, 3, 3, "price unconfirmed (data/prices.yaml)"),
        "VPC peerings": (0, 4, 4, "price unconfirmed (data/prices.yaml)"),
    }
    document = real("production")
    assert items_by_label(document) == expected
    estimate = estimate_cost(document, PRICES)
    assert (estimate.min_total, estimate.max_total) == expected_totals("production")
    assert not estimate.warnings


def test_the_gateway_lb_is_sized_by_the_annotation_its_envoy_proxy_gives_the_service():
    # components/gateway.py puts the size unit on the EnvoyProxy's envoyService, which the
    # GatewayClass names: that is what Envoy Gateway copies onto the LoadBalancer Service.
    for stack in ("production", "dev"):
        document = real(stack)
        settings = settings_of(stack)
        proxy = plandocs.find(document, plandocs.ENVOY_PROXY, "nyc3-gateway-proxy-config")
        wanted = load_balancer_annotations(settings, "nyc3")[plandoc.LB_SIZE_UNIT_ANNOTATION]
        assert (
            plandoc.get_path(proxy["inputs"], "spec.provider.kubernetes.envoyService.annotations")[
                plandoc.LB_SIZE_UNIT_ANNOTATION
            ]
            == wanted
        )
        assert lb_units(document)["nyc3-gateway-gateway load balancer (gateway)"] == (int(wanted), "")
    assert (
        settings_of("production").workloads.gateway.load_balancer_size_unit,
        settings_of("dev").workloads.gateway.load_balancer_size_unit,
    ) == (2, 1)


def test_the_size_unit_is_read_where_envoy_gateway_reads_it_and_nowhere_else():
    document = real("dev")
    label = "nyc3-gateway-gateway load balancer (gateway)"
    gateway = plandocs.find(document, plandocs.GATEWAY, "nyc3-gateway-gateway")
    proxy = plandocs.find(document, plandocs.ENVOY_PROXY, "nyc3-gateway-proxy-config")
    service = proxy["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]
    service["annotations"][plandoc.LB_SIZE_UNIT_ANNOTATION] = "4"
    # An EnvoyProxy no GatewayClass or Gateway names, on the same cluster and first by name,
    # and the annotation on the Gateway's own metadata, configure no Service: ignored.
    decoy = plandocs.add(
        document,
        plandocs.ENVOY_PROXY,
        "a-decoy-proxy",
        {
            "metadata": {"name": "decoy", "namespace": gateway["inputs"]["metadata"]["namespace"]},
            "spec": {"provider": {"kubernetes": {"envoyService": {"annotations": {plandoc.LB_SIZE_UNIT_ANNOTATION: "9"}}}}},
        },
        region="nyc3",
        provider=gateway["provider"],
    )
    gateway["inputs"]["metadata"]["annotations"][plandoc.LB_SIZE_UNIT_ANNOTATION] = "7"
    assert lb_units(document)[label] == (4, "")
    # The Gateway's infrastructure annotations reach the Service; the EnvoyProxy's win.
    gateway["inputs"]["spec"]["infrastructure"] = {"annotations": {plandoc.LB_SIZE_UNIT_ANNOTATION: "5"}}
    assert lb_units(document)[label] == (4, "")
    del service["annotations"][plandoc.LB_SIZE_UNIT_ANNOTATION]
    assert lb_units(document)[label] == (5, "")
    # A Gateway that names an EnvoyProxy of its own takes it instead of its class's.
    gateway["inputs"]["spec"]["infrastructure"] = {
        "parametersRef": {"group": plandoc.ENVOY_GROUP, "kind": "EnvoyProxy", "name": "decoy"}
    }
    assert (plandoc.envoy_proxy_of(gateway, document) or {}).get("urn") == decoy
    assert lb_units(document)[label] == (9, "")
    # An EnvoyProxy whose Service is not a LoadBalancer gets no load balancer at all.
    plandocs.find(document, plandocs.ENVOY_PROXY, "a-decoy-proxy")["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"][
        "type"
    ] = "ClusterIP"
    assert label not in lb_units(document)


def test_an_unsized_load_balancer_counts_the_default_unit_and_says_so():
    document = real("dev")
    proxy = plandocs.find(document, plandocs.ENVOY_PROXY, "nyc3-gateway-proxy-config")
    del proxy["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"][plandoc.LB_SIZE_UNIT_ANNOTATION]
    # The program declares no Service of type LoadBalancer; one would be priced by its own annotation.
    plandocs.add(
        document,
        plandocs.SERVICE,
        "nyc3-debug-lb",
        {"spec": {"type": "LoadBalancer"}, "metadata": {"annotations": {plandoc.LB_SIZE_UNIT_ANNOTATION: "3"}}},
        region="nyc3",
    )
    default = PRICES["loadBalancer"]["defaultSizeUnits"]
    assert lb_units(document) == {
        "nyc3-gateway-gateway load balancer (gateway)": (
            default,
            f"size unit not in the plan: DigitalOcean's default {default} assumed",
        ),
        "nyc3-debug-lb load balancer (service)": (3, ""),
    }


def test_a_region_with_two_generations_pays_two_clusters_and_two_gateway_lbs():
    # `ops upgrade nyc3 --to 1.34 --step add` on dev with two regions: green beside blue.
    (added,) = upgrade_steps("dev", "nyc3", "1.37", ["add"], regions=TWO)
    before, after = real("dev", TWO), real("dev", TWO, stack_text=added)
    size, system = settings_of("dev").cluster.node_pool.size, settings_of("dev").cluster.system_pool.size
    nyc3 = {label for label in items_by_label(after) if label.startswith("nyc3")}
    assert nyc3 == {
        f"nyc3-doks nodes ({system})",
        f"nyc3-green-doks nodes ({system})",
        f"nyc3-workers nodes ({size})",
        f"nyc3-green-workers nodes ({size})",
        "nyc3-gateway-gateway load balancer (gateway)",
        "nyc3-green-gateway-gateway load balancer (gateway)",
    }
    change = cost_change(before, after, PRICES)
    assert [(old.label if old else None, new.label if new else None) for old, new in change.items] == [
        (None, f"nyc3-green-doks nodes ({system})"),
        (None, f"nyc3-green-workers nodes ({size})"),
        (None, "nyc3-green-gateway-gateway load balancer (gateway)"),
        # Two regions had the two origins the base includes; green's is a third.
        (None, "Cloudflare origins beyond 2 included (3 in all)"),
    ]
    low, high = expected_totals("dev", TWO, generations=1)
    assert (change.after.min_total, change.after.max_total) == (low, high)
    assert (change.min_delta, change.max_delta) == (low - expected_totals("dev", TWO)[0], high - expected_totals("dev", TWO)[1])


def test_a_personal_stack_behind_a_dns_record_pays_no_load_balancing():
    document = real("dev-alice")
    assert plandoc.of_type(document, plandoc.CF_DNS_RECORD) and not plandoc.of_type(document, plandoc.CF_LOAD_BALANCER)
    estimate = estimate_cost(document, PRICES)
    assert not [i for i in estimate.items if i.key.startswith("cloudflare:")]
    assert (estimate.min_total, estimate.max_total) == expected_totals("dev-alice")


def test_off_steering_needs_no_add_on():
    document = real("dev", TWO)
    assert [i.key for i in estimate_cost(document, PRICES).items if i.key.startswith("cloudflare:")] == [
        "cloudflare:load-balancing",
        "cloudflare:steering",
    ]
    plandocs.find(document, plandoc.CF_LOAD_BALANCER, "edge-lb")["inputs"]["steeringPolicy"] = "off"
    assert [i.key for i in estimate_cost(document, PRICES).items if i.key.startswith("cloudflare:")] == [
        "cloudflare:load-balancing"
    ]


def test_a_size_without_a_price_is_a_warning_not_a_guess():
    document = real("dev")
    plandocs.find(document, plandoc.DOKS, "nyc3-doks")["inputs"]["nodePool"]["size"] = "m-64vcpu-512gb"
    estimate = estimate_cost(document, PRICES)
    assert estimate.items[0].unit_price == 0
    assert estimate.warnings == ["nyc3-doks: droplet size 'm-64vcpu-512gb' has no price in data/prices.yaml (counted as 0)"]


def test_adding_a_region_costs_its_node_pool_and_gateway_lb():
    change = cost_change(real("dev"), real("dev", TWO), PRICES)
    size, system = settings_of("dev").cluster.node_pool.size, settings_of("dev").cluster.system_pool.size
    # Two origins are still within the base price: Cloudflare's items do not change.
    assert [(old, new.label if new else None) for old, new in change.items] == [
        (None, f"fra1-doks nodes ({system})"),
        (None, f"fra1-workers nodes ({size})"),
        (None, "fra1-gateway-gateway load balancer (gateway)"),
    ]
    one, two = expected_totals("dev"), expected_totals("dev", TWO)
    assert (change.min_delta, change.max_delta) == (two[0] - one[0], two[1] - one[1])


def test_a_base_without_the_stack_costs_nothing():
    change = cost_change(None, real("dev"), PRICES)
    assert change.before.items == []
    assert (change.min_delta, change.max_delta) == expected_totals("dev")


def test_a_log_store_is_priced_per_node_and_an_unconfirmed_price_says_so():
    change = cost_change(real("dev"), real("dev", overrides={"marketplace:logStore": {"enabled": True}}), PRICES)
    [(before, after)] = change.items
    assert before is None and after is not None
    assert (after.label, after.unit_price, after.min_quantity, after.note) == (
        "logs-opensearch opensearch (db-s-1vcpu-2gb)", PRICES["opensearch"]["nodes"]["db-s-1vcpu-2gb"]["monthly"], 1,
        "price unconfirmed (data/prices.yaml)",
    )  # fmt: skip
    confirmed = {**PRICES, "opensearch": {**PRICES["opensearch"], "confirmed": True}}
    [store] = [i for i in estimate_cost(real("staging"), confirmed).items if i.label.startswith("logs-opensearch")]
    assert store.note == ""


def test_the_price_file_is_dated_sourced_and_complete():
    assert PRICES["date"] and PRICES["sources"]["digitalocean"] and PRICES["sources"]["cloudflare"]
    for key in ("perNode", "defaultSizeUnits"):
        assert key in PRICES["loadBalancer"]
    for key in ("loadBalancingBase", "includedOrigins", "perExtraOrigin", "perRegionSteering", "steeringAddOnPolicies"):
        assert key in PRICES["cloudflare"]
    # Every stack's sizes are priced.
    for stack in ("dev", "production", "dev-alice"):
        assert not estimate_cost(real(stack)).warnings


def test_the_table_shows_quantity_unit_price_and_both_totals():
    text = render_cost(real("dev"), PRICES)
    pool = settings_of("dev").cluster.node_pool
    node = PRICES["droplets"][pool.size]["monthly"]
    assert f"Estimated monthly cost (USD, list prices of {PRICES['date']}" in text
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:])}
    assert rows[f"nyc3-workers nodes ({pool.size})"] == [
        f"{pool.min_nodes}\u2013{pool.max_nodes} \u00d7 node",
        money(node),
        money(node * pool.min_nodes),
        money(node * pool.max_nodes),
    ]
    assert rows["total"] == [money(amount) for amount in expected_totals("dev")]


def test_ops_plan_prints_the_cost_table_and_the_deploy_critical_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    # The command on the cached plan: what is printed, not planning again, is under test.
    monkeypatch.setattr("offline.engine.run_plan", lambda stack, root=None: plan_of(stack))
    assert main(["plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    document = plan_document(plan_of("dev"))
    assert out.endswith(f"\n{render_cost(document)}\n{render_fresh_deploy(document)}")
