"""Edge settings: the Cloudflare load balancer, its health monitor and steering, and the
zone's TLS, in front of the regional clusters.

What Cloudflare allows depends on the account's plan (`cloudflarePlan`, with the Traffic
Steering add-on `cloudflareTrafficSteering`): the steering policies, whether a pool may be
checked from ALL_REGIONS, the shortest monitor interval and the load-balancing quotas. The
limits are data with their sources (data/cloudflare-plans.yaml); the program refuses what
the plan would refuse, before anything is declared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.regions import ALL_REGIONS, by_distance, cloudflare_regions, nearest_cloudflare_regions
from components.settings.generations import Generation
from components.settings.reader import ConfigReader, qualified, shown, unknown

PLANS_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "cloudflare-plans.yaml"


@dataclass(frozen=True)
class HealthMonitor:
    """How Cloudflare probes each cluster's gateway (GET https://<hostname>/healthz)."""

    path: str
    expected_codes: str
    interval: int
    timeout: int
    retries: int
    consecutive_up: int
    consecutive_down: int

    @property
    def seconds_to_leave_rotation(self) -> int:
        """From a cluster failing to the monitor's verdict that it is down: the failed probe
        rounds, the last one waiting out every retry's timeout (retries follow timeouts only;
        an error answer fails a round at once). A lower bound of the time to leave rotation:
        Cloudflare then combines the check regions' verdicts into one global health decision
        and the load balancer waits on that round trip before it acts."""
        return self.consecutive_down * self.interval + self.timeout * (self.retries + 1)

    @property
    def seconds_to_return(self) -> int:
        return self.consecutive_up * self.interval


@dataclass(frozen=True)
class LoadBalancingQuotas:
    """How many of each load-balancing object the Cloudflare account may hold."""

    load_balancers: int
    pools: int
    endpoints: int  # origins, summed over every pool
    monitors: int


@dataclass(frozen=True)
class CloudflarePlan:
    """What the account's Cloudflare plan allows the load balancer."""

    name: str  # free | pro | business | enterprise
    # Proximity, dynamic latency and geo steering (Enterprise, or the add-on elsewhere).
    traffic_steering: bool
    monitor_interval_minimum: int
    # Whether a pool may be checked from ALL_REGIONS (else the 13 regions are listed).
    all_regions_check: bool
    quotas: LoadBalancingQuotas


@dataclass(frozen=True)
class EdgeSettings:
    """The Cloudflare edge in front of the regional clusters."""

    # False for personal dev-<name> stacks: a proxied DNS record to their one cluster
    # instead of a load balancer, monitor and pools.
    load_balanced: bool
    plan: CloudflarePlan
    steering_policy: str
    # Per region, the Cloudflare regions its pool is health-checked from: an odd number, at
    # least three, so that a majority decides; every region where steering needs the
    # probes' round-trip times (dynamic_latency).
    check_regions: tuple[tuple[str, tuple[str, ...]], ...]
    fallback_region: str
    # Regions whose pool is disabled: no visitors, no probes (maintenance, failover drills).
    drained_regions: tuple[str, ...]
    session_affinity: str
    # Cloudflare region code -> regions in failover order; only with steering "geo".
    region_pools: tuple[tuple[str, tuple[str, ...]], ...]
    monitor: HealthMonitor
    notification_email: str | None
    origin_certificate_validity_days: int
    # Hosts of the advanced edge certificate this stack orders (empty: none), for a
    # hostname Universal SSL does not cover.
    edge_certificate_hosts: tuple[str, ...]
    protect: bool


# Cloudflare's traffic steering policies (the API's steering_policy values; "" is left out:
# it silently means "geo" or "off" depending on other fields).
STEERING_POLICIES = (
    "off",
    "geo",
    "random",
    "dynamic_latency",
    "proximity",
    "least_outstanding_requests",
    "least_connections",
)
# "header" affinity needs session_affinity_attributes.headers, which nothing here sets.
SESSION_AFFINITIES = ("none", "cookie", "ip_cookie")
# Cloudflare load-balancing region codes (region_pools keys, monitor check regions).
CLOUDFLARE_REGIONS = tuple(cloudflare_regions())
# Pools checked from this many regions nearest their cluster (when steering needs no more).
NEAR_CHECK_REGIONS = 3
# Validity periods the Origin CA issues (days).
ORIGIN_CERTIFICATE_VALIDITIES = (7, 30, 90, 365, 730, 1095, 5475)
HEALTH_PATH = "/healthz"

_EXPECTED_CODES = re.compile(r"[1-5](?:[0-9][0-9]|xx)", re.ASCII)
# Cloudflare takes origin weights from 0 to 1 in steps of 0.01
# (load-balancing/understand-basics/traffic-steering/origin-level-steering, weights).
_WEIGHT_STEPS = 100
# Keys only a load-balanced stack uses: a personal stack that sets one is told so.
_LOAD_BALANCER_KEYS = (
    "steeringPolicy",
    "fallbackRegion",
    "drainedRegions",
    "regionPools",
    "healthMonitor",
    "notificationEmail",
    "cloudflareQuotas",
)


def universal_ssl_covers(hostname: str, zone_name: str) -> bool:
    """Universal SSL certificates cover the zone apex and one level below it only."""
    return hostname == zone_name or hostname.count(".") == zone_name.count(".") + 1


@cache
def cloudflare_plans() -> Mapping[str, Any]:
    with PLANS_FILE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def _read_plan(reader: ConfigReader) -> CloudflarePlan:
    data = cloudflare_plans()
    name = reader.required_string("cloudflarePlan", "the Cloudflare plan of the zone")
    if name not in data["plans"]:
        raise reader.error("cloudflarePlan", f"must be one of {', '.join(data['plans'])}, got {shown(name)}")
    limits = data["plans"][name]
    # The add-on of Free, Pro and Business; Enterprise includes it, whatever the key says.
    add_on = reader.boolean("cloudflareTrafficSteering", True)
    steering = limits["trafficSteeringIncluded"] or add_on
    default_quotas = limits["quotas"]
    given = reader.obj("cloudflareQuotas", {"loadBalancers": int, "pools": int, "endpoints": int}) or {}
    for field_name, value in given.items():
        if value < 1:
            raise reader.error(f"cloudflareQuotas.{field_name}", f"must be at least 1, got {value}")
    quotas = {field_name: given.get(field_name, default) for field_name, default in default_quotas.items()}
    return CloudflarePlan(
        name=name,
        traffic_steering=steering,
        monitor_interval_minimum=limits["monitorIntervalMinimum"],
        all_regions_check=limits["allRegionsCheck"],
        quotas=LoadBalancingQuotas(
            load_balancers=quotas["loadBalancers"],
            pools=quotas["pools"],
            endpoints=quotas["endpoints"],
            monitors=math.floor(quotas["pools"] * data["monitorsPerPool"]),
        ),
    )


def _read_monitor(reader: ConfigReader, plan: CloudflarePlan) -> HealthMonitor:
    given = (
        reader.obj(
            "healthMonitor",
            {
                "interval": int,
                "timeout": int,
                "retries": int,
                "consecutiveUp": int,
                "consecutiveDown": int,
                "expectedCodes": str,
            },
        )
        or {}
    )
    # Each bound is Cloudflare's: 10 s is the shortest interval of any plan (Enterprise;
    # Business 15, Pro 60), probes time out after at most 10 s, at most 5 retries.
    bounds = {
        "interval": (60, 10, 3600),
        "timeout": (5, 1, 10),
        "retries": (2, 0, 5),
        "consecutiveUp": (2, 1, 10),
        "consecutiveDown": (2, 1, 10),
    }
    values: dict[str, int] = {}
    for field_name, (default, low, high) in bounds.items():
        value = given.get(field_name, default)
        if not low <= value <= high:
            raise reader.error(f"healthMonitor.{field_name}", f"must be between {low} and {high}, got {value}")
        values[field_name] = value
    expected_codes = given.get("expectedCodes", "200")
    if not _EXPECTED_CODES.fullmatch(expected_codes):
        raise reader.error(
            "healthMonitor.expectedCodes",
            f"must be one HTTP status code or a range such as 2xx, got {shown(expected_codes)}",
        )
    if values["interval"] < plan.monitor_interval_minimum:
        shorter = ", ".join(
            f"{other} {limits['monitorIntervalMinimum']} s"
            for other, limits in cloudflare_plans()["plans"].items()
            if limits["monitorIntervalMinimum"] < plan.monitor_interval_minimum
        )
        raise reader.error(
            "healthMonitor.interval",
            f"must be at least {plan.monitor_interval_minimum} s on Cloudflare's {plan.name} plan "
            f"(marketplace:cloudflarePlan), got {values['interval']}; shorter: {shorter}",
        )
    if values["timeout"] >= values["interval"]:
        raise reader.error(
            "healthMonitor.timeout",
            f"({values['timeout']} s) must be shorter than healthMonitor.interval ({values['interval']} s)",
        )
    return HealthMonitor(
        path=HEALTH_PATH,
        expected_codes=expected_codes,
        interval=values["interval"],
        timeout=values["timeout"],
        retries=values["retries"],
        consecutive_up=values["consecutiveUp"],
        consecutive_down=values["consecutiveDown"],
    )


def _read_region_pools(reader: ConfigReader, regions: tuple[str, ...], steering: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = reader.raw("regionPools")
    if raw is None:
        if steering != "geo":
            return ()
        # Geo steering with nothing configured: every Cloudflare region lists every cluster,
        # nearest first, so each is served from the nearest healthy cluster. A region left
        # out would be served in failover order (default_pools) instead.
        return tuple((code, tuple(by_distance(code, regions))) for code in CLOUDFLARE_REGIONS)
    if steering != "geo":
        raise reader.error(
            "regionPools",
            f"only steeringPolicy 'geo' uses region pools; with {shown(steering)} Cloudflare would ignore them",
        )
    given = reader.json_value("regionPools", raw, dict, "an object of Cloudflare region codes to lists of regions")
    pools: list[tuple[str, tuple[str, ...]]] = []
    for code, listed in given.items():
        key = f"regionPools.{code}"
        if code not in CLOUDFLARE_REGIONS:
            raise reader.error(
                key,
                f"{unknown(code, CLOUDFLARE_REGIONS, 'Cloudflare region')}; known: {', '.join(CLOUDFLARE_REGIONS)}",
            )
        if not isinstance(listed, list) or not listed or not all(isinstance(item, str) for item in listed):
            raise reader.error(key, f"must be a non-empty list of regions, got {shown(listed)}")
        pools.append((code, reader.region_list(key, listed, regions)))
    return tuple(pools)


def _edge_certificate_hosts(
    reader: ConfigReader, kind: str, *, owner: str | None, domain: str, hostname: str, zone_name: str
) -> tuple[str, ...]:
    # The shared dev stack's certificate also covers every personal stack's default
    # hostname (<name>.dev.<domain>), so personal stacks order none of their own.
    wildcard = kind == "dev" and owner is None and hostname == f"dev.{domain}"
    covered = universal_ssl_covers(hostname, zone_name) or (owner is not None and hostname == f"{owner}.dev.{domain}")
    if not reader.boolean("orderEdgeCertificate", not covered):
        return ()
    # An advanced certificate must include the zone apex.
    return (zone_name, hostname, *((f"*.{hostname}",) if wildcard else ()))


def _read_steering(reader: ConfigReader, plan: CloudflarePlan, regions: tuple[str, ...]) -> str:
    without_add_on = tuple(cloudflare_plans()["steeringWithoutAddOn"])
    given = reader.string("steeringPolicy")
    if given is None:
        if plan.traffic_steering:
            # Both keep the promise in every Cloudflare region: dynamic latency measures
            # from all 13 regions (ALL_REGIONS, Enterprise); proximity needs no measurement,
            # only the pools' coordinates, so no region waits on probes it does not have.
            return "dynamic_latency" if plan.all_regions_check else "proximity"
        if len(regions) > 1:
            raise reader.error(
                "steeringPolicy",
                f"Cloudflare's {plan.name} plan without the Traffic Steering add-on "
                "(marketplace:cloudflareTrafficSteering: false) cannot steer visitors to the nearest cluster; "
                f"buy the add-on, or accept plain failover with steeringPolicy {' or '.join(without_add_on)}",
            )
        return "off"
    if given not in STEERING_POLICIES:
        raise reader.error(
            "steeringPolicy",
            f"unknown steering policy {shown(given)}; Cloudflare's policies: {', '.join(STEERING_POLICIES)}",
        )
    if not plan.traffic_steering and given not in without_add_on:
        raise reader.error(
            "steeringPolicy",
            f"{shown(given)} needs Cloudflare's Traffic Steering add-on, which this {plan.name} plan lacks "
            f"(marketplace:cloudflareTrafficSteering: false); without it: {', '.join(without_add_on)}",
        )
    return given


def check_regions(plan: CloudflarePlan, steering: str, region: str) -> tuple[str, ...]:
    """The regions a region's pool is health-checked from. Dynamic latency steers each
    visitor by the round-trip times of probes from the visitor's own region, and sends a
    region with no such data to the pools in failover order: every pool is checked from
    every region. Any other policy needs only a health verdict: the regions nearest the
    cluster, three of them, so that a majority of two decides."""
    if steering == "dynamic_latency":
        return (ALL_REGIONS,) if plan.all_regions_check else CLOUDFLARE_REGIONS
    return nearest_cloudflare_regions(region, NEAR_CHECK_REGIONS)


def check_origin_weights(reader: ConfigReader, generations: Mapping[str, tuple[Generation, ...]]) -> None:
    """Origin weights are a pool's shares in steps of 0.01: a finer weight is not what
    Cloudflare would apply."""
    for region, region_generations in generations.items():
        for generation in region_generations:
            steps = generation.weight * _WEIGHT_STEPS
            if abs(steps - round(steps)) > 1e-9:
                raise reader.error(
                    f"generations.{region}",
                    f"{generation.name} weight {generation.weight:g} is not a multiple of 0.01: "
                    "Cloudflare takes origin weights from 0 to 1 in steps of 0.01",
                )


def read_edge(
    reader: ConfigReader,
    kind: str,
    regions: tuple[str, ...],
    *,
    generations: Mapping[str, tuple[Generation, ...]],
    owner: str | None,
    domain: str,
    hostname: str,
    zone_name: str,
) -> EdgeSettings:
    personal = owner is not None
    if personal:
        for key in _LOAD_BALANCER_KEYS:
            if reader.raw(key) is not None:
                raise reader.error(
                    key,
                    "personal stacks have no load balancer (a proxied DNS record points at their one cluster): "
                    f"remove it with pulumi config rm {qualified(key)} -s {reader.stack}",
                )
        if len(regions) > 1:
            raise reader.error(
                "regions",
                f"a personal stack serves from one cluster through a DNS record, without a load balancer; "
                f"list one region, got {', '.join(regions)}",
            )

    plan = _read_plan(reader)
    steering = _read_steering(reader, plan, regions)

    drained = reader.region_list("drainedRegions", reader.string_list("drainedRegions", ()), regions)
    serving = [region for region in regions if region not in drained]
    if not serving:
        raise reader.error("drainedRegions", "drains every region: the load balancer would have no cluster to send visitors to")

    (fallback,) = reader.region_list("fallbackRegion", (reader.string("fallbackRegion") or serving[0],), regions)
    if fallback in drained:
        raise reader.error(
            "fallbackRegion", f"{shown(fallback)} is drained (drainedRegions): the fallback must be a serving region"
        )

    affinity = reader.required_string("sessionAffinity", "a session affinity")
    if affinity not in SESSION_AFFINITIES:
        raise reader.error("sessionAffinity", f"must be one of {', '.join(SESSION_AFFINITIES)}, got {shown(affinity)}")

    given_email = reader.string("notificationEmail")
    email = reader.email("notificationEmail", given_email) if given_email else None

    validity = reader.integer("originCertificateValidityDays", 5475, 7, 5475)
    if validity not in ORIGIN_CERTIFICATE_VALIDITIES:
        choices = ", ".join(map(str, ORIGIN_CERTIFICATE_VALIDITIES))
        raise reader.error(
            "originCertificateValidityDays",
            f"must be one of {choices} (what the Origin CA issues), got {validity}",
        )

    check_origin_weights(reader, generations)

    return EdgeSettings(
        load_balanced=not personal,
        plan=plan,
        steering_policy=steering,
        check_regions=tuple((region, check_regions(plan, steering, region)) for region in regions),
        fallback_region=fallback,
        drained_regions=drained,
        session_affinity=affinity,
        region_pools=_read_region_pools(reader, regions, steering),
        monitor=_read_monitor(reader, plan),
        notification_email=email,
        origin_certificate_validity_days=validity,
        edge_certificate_hosts=_edge_certificate_hosts(
            reader, kind, owner=owner, domain=domain, hostname=hostname, zone_name=zone_name
        ),
        protect=kind == "production",
    )
