"""Edge settings: defaults per stack kind, and every refusal with its exact message.

Most cases parse settings directly from the config the CLI would build (fast); the
refusals the issue names run the whole program to prove nothing is declared before them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from components.settings import ConfigError, StackSettings, parse_settings
from components.settings.edge import CLOUDFLARE_REGIONS, HealthMonitor, LoadBalancingQuotas, universal_ssl_covers
from offline.stack_config import load_stack_config
from tests.conftest import plan_error

ALL = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")


def settings_of(stack: str, overrides: Mapping[str, Any] | None = None) -> StackSettings:
    config = load_stack_config(stack, overrides=overrides)
    return parse_settings(stack, config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "t"})


def refusal(stack: str, overrides: Mapping[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_of(stack, overrides)
    return str(caught.value)


# Defaults per kind ---------------------------------------------------------------------


def test_production_defaults() -> None:
    edge = settings_of("production").edge
    assert edge.load_balanced
    assert (edge.plan.name, edge.plan.traffic_steering, edge.plan.monitor_interval_minimum) == ("pro", True, 60)
    assert edge.plan.quotas == LoadBalancingQuotas(load_balancers=20, pools=20, endpoints=20, monitors=30)
    assert edge.steering_policy == "proximity"
    assert edge.fallback_region == "sfo3"  # the first region
    assert edge.session_affinity == "none"
    assert edge.region_pools == ()
    assert edge.monitor == HealthMonitor(
        path="/healthz",
        expected_codes="200",
        interval=60,
        timeout=5,
        retries=2,
        consecutive_up=2,
        consecutive_down=2,
    )
    assert edge.notification_email is None
    assert edge.origin_certificate_validity_days == 5475
    # catalog.example.com is one level below the zone: Universal SSL covers it.
    assert edge.edge_certificate_hosts == ()
    assert edge.protect


def test_staging_and_dev_defaults() -> None:
    staging = settings_of("staging").edge
    assert staging.load_balanced and not staging.protect
    assert staging.edge_certificate_hosts == ("example.com", "staging.catalog.example.com")

    dev = settings_of("dev").edge
    assert dev.load_balanced and dev.fallback_region == "nyc3"
    # The shared dev stack's certificate covers every personal stack's hostname too.
    assert dev.edge_certificate_hosts == (
        "example.com",
        "dev.catalog.example.com",
        "*.dev.catalog.example.com",
    )


def test_personal_stack_has_no_load_balancer_nor_certificate_of_its_own() -> None:
    settings = settings_of("dev-alice")
    assert settings.hostname == "alice.dev.catalog.example.com"
    assert not settings.edge.load_balanced
    assert settings.edge.edge_certificate_hosts == ()


def test_personal_stack_with_a_hostname_of_its_own_orders_a_certificate() -> None:
    edge = settings_of("dev-alice", {"marketplace:hostname": "alice.sandbox.catalog.example.com"}).edge
    assert edge.edge_certificate_hosts == ("example.com", "alice.sandbox.catalog.example.com")


def test_edge_certificate_can_be_left_to_total_tls() -> None:
    assert settings_of("staging", {"marketplace:orderEdgeCertificate": False}).edge.edge_certificate_hosts == ()


def test_universal_ssl_covers_the_apex_and_one_level() -> None:
    assert universal_ssl_covers("example.com", "example.com")
    assert universal_ssl_covers("catalog.example.com", "example.com")
    assert not universal_ssl_covers("staging.catalog.example.com", "example.com")


def test_time_to_leave_rotation() -> None:
    monitor = settings_of(
        "production",
        {"marketplace:cloudflarePlan": "business", "marketplace:healthMonitor": {"interval": 15, "consecutiveDown": 3}},
    ).edge.monitor
    # Three failed rounds 15 s apart, the last one waiting out 3 x 5 s of timeouts.
    assert monitor.seconds_to_leave_rotation == 3 * 15 + 5 * 3
    assert monitor.seconds_to_return == 2 * 15


def test_draining_the_first_region_moves_the_default_fallback() -> None:
    edge = settings_of("production", {"marketplace:drainedRegions": ["sfo3"]}).edge
    assert edge.drained_regions == ("sfo3",)
    assert edge.fallback_region == "nyc3"


def test_geo_steering_defaults_to_every_cloudflare_region_nearest_cluster_first() -> None:
    edge = settings_of("production", {"marketplace:steeringPolicy": "geo"}).edge
    pools = dict(edge.region_pools)
    # Every region: one left out would be served in failover order (sfo3 first).
    assert tuple(pools) == CLOUDFLARE_REGIONS
    assert all(sorted(listed) == sorted(ALL) for listed in pools.values())
    assert {code: listed[:2] for code, listed in pools.items()} == {
        "WNAM": ("sfo3", "nyc3"),
        "ENAM": ("nyc3", "sfo3"),
        "WEU": ("fra1", "nyc3"),
        "EEU": ("fra1", "blr1"),
        "NSAM": ("nyc3", "sfo3"),
        "SSAM": ("nyc3", "fra1"),
        "OC": ("sgp1", "blr1"),
        "ME": ("blr1", "fra1"),
        "NAF": ("fra1", "blr1"),
        "SAF": ("blr1", "sgp1"),
        "SAS": ("blr1", "sgp1"),
        "SEAS": ("sgp1", "blr1"),
        "NEAS": ("sgp1", "blr1"),
    }


def test_geo_steering_with_region_pools() -> None:
    edge = settings_of(
        "production",
        {
            "marketplace:steeringPolicy": "geo",
            "marketplace:regionPools": {"EEU": ["fra1", "blr1"], "OC": ["sgp1"]},
        },
    ).edge
    assert edge.region_pools == (("EEU", ("fra1", "blr1")), ("OC", ("sgp1",)))


# Refusals the issue names: exact message, nothing declared -----------------------------


def test_fallback_region_not_among_the_regions() -> None:
    assert plan_error("production", overrides={"marketplace:fallbackRegion": "ams3"}) == (
        "stack 'production': config 'marketplace:fallbackRegion': "
        "'ams3' is not one of this stack's regions (sfo3, nyc3, fra1, blr1, sgp1)"
    )


def test_fallback_region_removed_from_the_regions() -> None:
    assert plan_error(
        "production",
        overrides={"marketplace:fallbackRegion": "blr1", "marketplace:regions": ["sfo3", "nyc3"]},
    ) == ("stack 'production': config 'marketplace:fallbackRegion': 'blr1' is not one of this stack's regions (sfo3, nyc3)")


def test_unknown_steering_policy() -> None:
    assert plan_error("staging", overrides={"marketplace:steeringPolicy": "latency"}) == (
        "stack 'staging': config 'marketplace:steeringPolicy': unknown steering policy 'latency'; "
        "Cloudflare's policies: off, geo, random, dynamic_latency, proximity, least_outstanding_requests, "
        "least_connections"
    )


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        ({"interval": 5}, "config 'marketplace:healthMonitor.interval': must be between 10 and 3600, got 5"),
        (
            {"interval": 7200},
            "config 'marketplace:healthMonitor.interval': must be between 10 and 3600, got 7200",
        ),
        ({"retries": 9}, "config 'marketplace:healthMonitor.retries': must be between 0 and 5, got 9"),
        ({"timeout": 0}, "config 'marketplace:healthMonitor.timeout': must be between 1 and 10, got 0"),
        (
            {"consecutiveUp": 0},
            "config 'marketplace:healthMonitor.consecutiveUp': must be between 1 and 10, got 0",
        ),
        (
            {"consecutiveDown": 11},
            "config 'marketplace:healthMonitor.consecutiveDown': must be between 1 and 10, got 11",
        ),
    ],
)
def test_monitor_thresholds_out_of_range(monitor: dict[str, int], message: str) -> None:
    assert plan_error("production", overrides={"marketplace:healthMonitor": monitor}) == f"stack 'production': {message}"


def test_monitor_timeout_longer_than_its_interval() -> None:
    overrides = {"marketplace:cloudflarePlan": "enterprise", "marketplace:healthMonitor": {"interval": 10, "timeout": 10}}
    assert plan_error("production", overrides=overrides) == (
        "stack 'production': config 'marketplace:healthMonitor.timeout': (10 s) must be shorter than "
        "healthMonitor.interval (10 s)"
    )


def test_hostname_not_inside_the_zone() -> None:
    assert plan_error("production", overrides={"marketplace:hostname": "catalog.example.org"}) == (
        "stack 'production': config 'marketplace:hostname': 'catalog.example.org' is not inside the Cloudflare zone 'example.com'"
    )


def test_domain_not_inside_the_zone() -> None:
    assert plan_error("staging", overrides={"marketplace:domain": "catalog.example.net"}) == (
        "stack 'staging': config 'marketplace:domain': 'catalog.example.net' is not inside the Cloudflare zone 'example.com'"
    )


def test_zone_that_only_ends_like_the_hostname_is_not_its_zone() -> None:
    # "badexample.com" ends with "example.com" but is another zone.
    assert plan_error("production", overrides={"marketplace:hostname": "badexample.com"}) == (
        "stack 'production': config 'marketplace:hostname': 'badexample.com' is not inside the Cloudflare zone 'example.com'"
    )


@pytest.mark.parametrize(("stack", "key"), [("production", "cloudflareAccountId"), ("dev-alice", "cloudflareZoneId")])
def test_missing_cloudflare_id(stack: str, key: str) -> None:
    assert plan_error(stack, overrides={f"marketplace:{key}": ""}) == (
        f"stack '{stack}': config 'marketplace:{key}': is missing: this stack needs a Cloudflare id "
        f"(pulumi config set marketplace:{key} <value> -s {stack})"
    )


# Other refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"marketplace:healthMonitor": {"intervall": 30}},
            "config 'marketplace:healthMonitor.intervall': unknown field; did you mean 'interval'?",
        ),
        (
            {"marketplace:healthMonitor": {"expectedCodes": "ok"}},
            "config 'marketplace:healthMonitor.expectedCodes': must be one HTTP status code or a range such as 2xx, got 'ok'",
        ),
        (
            {"marketplace:sessionAffinity": "header"},
            "config 'marketplace:sessionAffinity': must be one of none, cookie, ip_cookie, got 'header'",
        ),
        (
            {"marketplace:regionPools": {"WNAM": ["sfo3"]}},
            "config 'marketplace:regionPools': only steeringPolicy 'geo' uses region pools; with "
            "'proximity' Cloudflare would ignore them",
        ),
        (
            {"marketplace:steeringPolicy": "geo", "marketplace:regionPools": {"WNAN": ["sfo3"]}},
            "config 'marketplace:regionPools.WNAN': unknown Cloudflare region; did you mean 'WNAM'?; known: "
            "WNAM, ENAM, WEU, EEU, NSAM, SSAM, OC, ME, NAF, SAF, SAS, SEAS, NEAS",
        ),
        (
            {"marketplace:steeringPolicy": "geo", "marketplace:regionPools": {"WEU": ["ams3"]}},
            "config 'marketplace:regionPools.WEU': 'ams3' is not one of this stack's regions (sfo3, nyc3, fra1, blr1, sgp1)",
        ),
        (
            {"marketplace:steeringPolicy": "geo", "marketplace:regionPools": {"WEU": []}},
            "config 'marketplace:regionPools.WEU': must be a non-empty list of regions, got []",
        ),
        (
            {"marketplace:drainedRegions": ["ams3"]},
            "config 'marketplace:drainedRegions': 'ams3' is not one of this stack's regions (sfo3, nyc3, fra1, blr1, sgp1)",
        ),
        (
            {"marketplace:drainedRegions": list(ALL)},
            "config 'marketplace:drainedRegions': drains every region: the load balancer would have no cluster "
            "to send visitors to",
        ),
        (
            {"marketplace:drainedRegions": ["fra1"], "marketplace:fallbackRegion": "fra1"},
            "config 'marketplace:fallbackRegion': 'fra1' is drained (drainedRegions): the fallback must be a serving region",
        ),
        (
            {"marketplace:notificationEmail": "ops at example.com"},
            "config 'marketplace:notificationEmail': must be one email address, got 'ops at example.com'",
        ),
        (
            {"marketplace:originCertificateValidityDays": 100},
            "config 'marketplace:originCertificateValidityDays': must be one of 7, 30, 90, 365, 730, 1095, 5475 "
            "(what the Origin CA issues), got 100",
        ),
    ],
)
def test_refused(overrides: dict[str, Any], message: str) -> None:
    assert refusal("production", overrides) == f"stack 'production': {message}"


def test_personal_stack_refuses_load_balancer_keys() -> None:
    assert refusal("dev-alice", {"marketplace:fallbackRegion": "nyc3"}) == (
        "stack 'dev-alice': config 'marketplace:fallbackRegion': personal stacks have no load balancer (a proxied "
        "DNS record points at their one cluster): remove it with pulumi config rm marketplace:fallbackRegion -s dev-alice"
    )


def test_personal_stack_serves_from_one_region() -> None:
    assert refusal("dev-alice", {"marketplace:regions": ["nyc3", "fra1"]}) == (
        "stack 'dev-alice': config 'marketplace:regions': a personal stack serves from one cluster through a DNS "
        "record, without a load balancer; list one region, got nyc3, fra1"
    )


def test_validity_must_be_a_whole_number_for_the_cli() -> None:
    from offline.engine import PlanError, run_plan

    with pytest.raises(PlanError) as caught:
        run_plan("production", overrides={"marketplace:originCertificateValidityDays": "a year"})
    assert str(caught.value) == (
        "Stack 'production' with configuration key 'marketplace:originCertificateValidityDays' must be of type 'integer'"
    )


# The Cloudflare plan ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "steering", "checks", "minimum"),
    [
        ("free", "proximity", ("WEU", "EEU", "NAF"), 60),
        ("pro", "proximity", ("WEU", "EEU", "NAF"), 60),
        ("business", "proximity", ("WEU", "EEU", "NAF"), 15),
        ("enterprise", "dynamic_latency", ("ALL_REGIONS",), 10),
    ],
)
def test_the_plan_decides_steering_check_regions_and_interval_minimum(
    plan: str, steering: str, checks: tuple[str, ...], minimum: int
) -> None:
    edge = settings_of("production", {"marketplace:cloudflarePlan": plan}).edge
    assert edge.steering_policy == steering
    assert dict(edge.check_regions)["fra1"] == checks
    assert edge.plan.monitor_interval_minimum == minimum
    # Three regions or all thirteen: an odd count, so a majority decides.
    assert all(len(codes) % 2 == 1 for _, codes in edge.check_regions)


def test_dynamic_latency_off_enterprise_lists_every_region() -> None:
    edge = settings_of(
        "production", {"marketplace:cloudflarePlan": "business", "marketplace:steeringPolicy": "dynamic_latency"}
    ).edge
    assert {codes for _, codes in edge.check_regions} == {CLOUDFLARE_REGIONS}


@pytest.mark.parametrize(
    ("plan", "interval", "message"),
    [
        (
            "pro",
            15,
            "must be at least 60 s on Cloudflare's pro plan (marketplace:cloudflarePlan), got 15; shorter: business 15 s, enterprise 10 s",
        ),
        (
            "business",
            10,
            "must be at least 15 s on Cloudflare's business plan (marketplace:cloudflarePlan), got 10; shorter: enterprise 10 s",
        ),
    ],
)
def test_an_interval_below_the_plans_minimum_is_refused(plan: str, interval: int, message: str) -> None:
    assert (
        plan_error(
            "production", overrides={"marketplace:cloudflarePlan": plan, "marketplace:healthMonitor": {"interval": interval}}
        )
        == f"stack 'production': config 'marketplace:healthMonitor.interval': {message}"
    )
    assert settings_of("production", {"marketplace:cloudflarePlan": "enterprise", "marketplace:healthMonitor": {"interval": 10}})


def test_without_the_traffic_steering_add_on_nearest_cluster_steering_is_refused() -> None:
    without = {"marketplace:cloudflareTrafficSteering": False}
    assert plan_error("production", overrides=without) == (
        "stack 'production': config 'marketplace:steeringPolicy': Cloudflare's pro plan without the Traffic Steering "
        "add-on (marketplace:cloudflareTrafficSteering: false) cannot steer visitors to the nearest cluster; buy the "
        "add-on, or accept plain failover with steeringPolicy off or random"
    )
    assert refusal("production", {**without, "marketplace:steeringPolicy": "geo"}) == (
        "stack 'production': config 'marketplace:steeringPolicy': 'geo' needs Cloudflare's Traffic Steering add-on, "
        "which this pro plan lacks (marketplace:cloudflareTrafficSteering: false); without it: off, random"
    )
    # Stated plainly, failover order is allowed; one region has nothing to steer.
    assert settings_of("production", {**without, "marketplace:steeringPolicy": "off"}).edge.steering_policy == "off"
    assert settings_of("dev", without).edge.steering_policy == "off"
    # Enterprise includes the add-on whatever the key says.
    assert (
        settings_of("production", {**without, "marketplace:cloudflarePlan": "enterprise"}).edge.steering_policy
        == "dynamic_latency"
    )


def test_quotas_default_to_the_plan_and_can_be_stated() -> None:
    edge = settings_of("production", {"marketplace:cloudflareQuotas": {"endpoints": 12, "pools": 10}}).edge
    assert edge.plan.quotas == LoadBalancingQuotas(load_balancers=20, pools=10, endpoints=12, monitors=15)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"marketplace:cloudflarePlan": "team"},
            "config 'marketplace:cloudflarePlan': must be one of free, pro, business, enterprise, got 'team'",
        ),
        (
            {"marketplace:cloudflareQuotas": {"endpoints": 0}},
            "config 'marketplace:cloudflareQuotas.endpoints': must be at least 1, got 0",
        ),
        (
            {"marketplace:cloudflareQuotas": {"endpoint": 5}},
            "config 'marketplace:cloudflareQuotas.endpoint': unknown field; did you mean 'endpoints'?",
        ),
        (
            {"marketplace:manageZoneSettings": True},
            "config 'marketplace:manageZoneSettings': unknown key",
        ),
    ],
)
def test_plan_refusals(overrides: dict[str, Any], message: str) -> None:
    assert refusal("production", overrides).startswith(f"stack 'production': {message}")


def test_origin_weights_go_in_steps_of_a_hundredth() -> None:
    generations = [
        {"name": "blue", "kubernetesVersion": "1.36.1-do.0", "weight": 0.875},
        {"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 0.125},
    ]
    assert plan_error("production", overrides={"marketplace:generations": {"nyc3": generations}}) == (
        "stack 'production': config 'marketplace:generations.nyc3': blue weight 0.875 is not a multiple of 0.01: "
        "Cloudflare takes origin weights from 0 to 1 in steps of 0.01"
    )
    generations[0]["weight"], generations[1]["weight"] = 0.93, 0.07
    assert settings_of("production", {"marketplace:generations": {"nyc3": generations}}).generations["nyc3"]


def test_personal_stack_refuses_a_steering_policy() -> None:
    assert refusal("dev-alice", {"marketplace:steeringPolicy": "geo"}).startswith(
        "stack 'dev-alice': config 'marketplace:steeringPolicy': personal stacks have no load balancer"
    )


def test_the_zone_stack_reads_the_zone_alone() -> None:
    from components.settings import parse_zone_settings

    config = load_stack_config("zone")
    zone = parse_zone_settings("zone", config.values, config.secret_keys)
    assert (zone.stack, zone.zone_name, zone.cloudflare_zone_id) == ("zone", "example.com", "fedcba9876543210fedcba9876543210")
    assert plan_error("zone", overrides={"marketplace:cloudflareZoneId": "example"}) == (
        "stack 'zone': config 'marketplace:cloudflareZoneId': must be 32 lowercase hex digits, got 'example'"
    )


@pytest.mark.parametrize("email", ["ops@example.com", "Oncall+LB@Example.org", "ops@example.xn--p1ai"])
def test_the_notification_email_follows_the_one_address_rule(email: str) -> None:
    # An internationalised top-level domain (xn--p1ai) was refused here and taken by alerting.email.
    assert settings_of("production", {"marketplace:notificationEmail": email}).edge.notification_email == email
    assert settings_of("production", {"marketplace:alerting": {"email": email}}).alerting.email == email


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("marketplace:regions", ["nyc3", "fra1", "nyc3"]),
        ("marketplace:drainedRegions", ["nyc3", "nyc3"]),
        ("marketplace:regionPools", {"WEU": ["fra1", "nyc3", "nyc3"]}),
    ],
)
def test_a_region_listed_twice_is_refused_in_every_region_list(key: str, value: object) -> None:
    # One helper checks every region list: drainedRegions [nyc3, nyc3] used to plan.
    steering = {"marketplace:steeringPolicy": "geo"} if key == "marketplace:regionPools" else {}
    where = f"{key}.WEU" if key == "marketplace:regionPools" else key
    assert refusal("production", {key: value, **steering}) == (
        f"stack 'production': config '{where}': region 'nyc3' is listed twice"
    )
