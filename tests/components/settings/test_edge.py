"""Edge settings: defaults per stack kind, and every refusal with its exact message.

Most cases parse settings directly from the config the CLI would build (fast); the
refusals the issue names run the whole program to prove nothing is declared before them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from components.settings import ConfigError, StackSettings, parse_settings
from components.settings.edge import HealthMonitor, universal_ssl_covers
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
    assert edge.steering_policy == "dynamic_latency"
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
    assert edge.manage_zone_settings
    # catalog.example.com is one level below the zone: Universal SSL covers it.
    assert edge.edge_certificate_hosts == ()
    assert edge.protect


def test_staging_and_dev_defaults() -> None:
    staging = settings_of("staging").edge
    assert staging.load_balanced and not staging.manage_zone_settings and not staging.protect
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
    assert not settings.edge.manage_zone_settings
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
    monitor = settings_of("production", {"marketplace:healthMonitor": {"interval": 15, "consecutiveDown": 3}}).edge.monitor
    # Three failed rounds 15 s apart, the last one waiting out 3 x 5 s of timeouts.
    assert monitor.seconds_to_leave_rotation == 3 * 15 + 5 * 3
    assert monitor.seconds_to_return == 2 * 15


def test_draining_the_first_region_moves_the_default_fallback() -> None:
    edge = settings_of("production", {"marketplace:drainedRegions": ["sfo3"]}).edge
    assert edge.drained_regions == ("sfo3",)
    assert edge.fallback_region == "nyc3"


def test_geo_steering_defaults_to_the_clusters_of_each_cloudflare_region() -> None:
    edge = settings_of("production", {"marketplace:steeringPolicy": "geo"}).edge
    assert dict(edge.region_pools) == {
        "WNAM": ("sfo3", "nyc3", "fra1", "blr1", "sgp1"),
        "ENAM": ("nyc3", "sfo3", "fra1", "blr1", "sgp1"),
        "WEU": ("fra1", "sfo3", "nyc3", "blr1", "sgp1"),
        "SAS": ("blr1", "sfo3", "nyc3", "fra1", "sgp1"),
        "SEAS": ("sgp1", "sfo3", "nyc3", "fra1", "blr1"),
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
    assert plan_error("production", overrides={"marketplace:healthMonitor": {"interval": 10, "timeout": 10}}) == (
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
            "'dynamic_latency' Cloudflare would ignore them",
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
