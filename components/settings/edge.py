"""Edge settings: the Cloudflare load balancer, its health monitor and steering, and the
zone's TLS, in front of the regional clusters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.regions import REGIONS
from components.settings.reader import ConfigReader, qualified, shown, unknown


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
        """Worst case from a cluster failing to its pool being marked unhealthy: the failed
        probe rounds, each waiting out every retry's timeout."""
        return self.consecutive_down * self.interval + self.timeout * (self.retries + 1)

    @property
    def seconds_to_return(self) -> int:
        return self.consecutive_up * self.interval


@dataclass(frozen=True)
class EdgeSettings:
    """The Cloudflare edge in front of the regional clusters (edge issue)."""

    # False for personal dev-<name> stacks: a proxied DNS record to their one cluster
    # instead of a load balancer, monitor and pools.
    load_balanced: bool
    steering_policy: str
    fallback_region: str
    # Regions whose pool is disabled: no visitors, no probes (maintenance, failover drills).
    drained_regions: tuple[str, ...]
    session_affinity: str
    # Cloudflare region code -> regions in failover order; only with steering "geo".
    region_pools: tuple[tuple[str, tuple[str, ...]], ...]
    monitor: HealthMonitor
    notification_email: str | None
    origin_certificate_validity_days: int
    # Zone-wide TLS posture (SSL strict, authenticated origin pulls, HTTPS only): one
    # stack per zone owns it, production by default.
    manage_zone_settings: bool
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
CLOUDFLARE_REGIONS = ("WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS")  # fmt: skip
# Validity periods the Origin CA issues (days).
ORIGIN_CERTIFICATE_VALIDITIES = (7, 30, 90, 365, 730, 1095, 5475)
HEALTH_PATH = "/healthz"

_EXPECTED_CODES = re.compile(r"[1-5](?:[0-9][0-9]|xx)", re.ASCII)
# One address, ASCII only (RFC 5321: local part at most 64 octets, the whole at most 254).
_EMAIL = re.compile(
    r"(?=.{6,254}\Z)[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
# Keys only a load-balanced stack uses: a personal stack that sets one is told so.
_LOAD_BALANCER_KEYS = ("fallbackRegion", "drainedRegions", "regionPools", "healthMonitor", "notificationEmail")


def universal_ssl_covers(hostname: str, zone_name: str) -> bool:
    """Universal SSL certificates cover the zone apex and one level below it only."""
    return hostname == zone_name or hostname.count(".") == zone_name.count(".") + 1


def _read_monitor(reader: ConfigReader) -> HealthMonitor:
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
        # Geo steering with nothing configured: each Cloudflare region is served by the
        # clusters located in it first, then by the rest in failover order.
        by_code: dict[str, list[str]] = {}
        for region in regions:
            by_code.setdefault(REGIONS[region].cloudflare_region, []).append(region)
        return tuple((code, (*local, *(r for r in regions if r not in local))) for code, local in by_code.items())
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
        for region in listed:
            if region not in regions:
                raise reader.error(key, f"{shown(region)} is not one of this stack's regions ({', '.join(regions)})")
        if len(set(listed)) != len(listed):
            raise reader.error(key, f"lists a region twice: {shown(listed)}")
        pools.append((code, tuple(listed)))
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


def read_edge(
    reader: ConfigReader,
    kind: str,
    regions: tuple[str, ...],
    *,
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

    steering = reader.required_string("steeringPolicy", "a Cloudflare steering policy")
    if steering not in STEERING_POLICIES:
        raise reader.error(
            "steeringPolicy",
            f"unknown steering policy {shown(steering)}; Cloudflare's policies: {', '.join(STEERING_POLICIES)}",
        )

    drained = reader.string_list("drainedRegions", ())
    for region in drained:
        if region not in regions:
            raise reader.error("drainedRegions", f"{shown(region)} is not one of this stack's regions ({', '.join(regions)})")
    serving = [region for region in regions if region not in drained]
    if not serving:
        raise reader.error("drainedRegions", "drains every region: the load balancer would have no cluster to send visitors to")

    fallback = reader.string("fallbackRegion") or serving[0]
    if fallback not in regions:
        raise reader.error("fallbackRegion", f"{shown(fallback)} is not one of this stack's regions ({', '.join(regions)})")
    if fallback in drained:
        raise reader.error(
            "fallbackRegion", f"{shown(fallback)} is drained (drainedRegions): the fallback must be a serving region"
        )

    affinity = reader.required_string("sessionAffinity", "a session affinity")
    if affinity not in SESSION_AFFINITIES:
        raise reader.error("sessionAffinity", f"must be one of {', '.join(SESSION_AFFINITIES)}, got {shown(affinity)}")

    email = reader.string("notificationEmail") or None
    if email is not None and not _EMAIL.fullmatch(email):
        raise reader.error("notificationEmail", f"must be one email address, got {shown(email)}")

    validity = reader.integer("originCertificateValidityDays", 5475, 7, 5475)
    if validity not in ORIGIN_CERTIFICATE_VALIDITIES:
        choices = ", ".join(map(str, ORIGIN_CERTIFICATE_VALIDITIES))
        raise reader.error(
            "originCertificateValidityDays",
            f"must be one of {choices} (what the Origin CA issues), got {validity}",
        )

    return EdgeSettings(
        load_balanced=not personal,
        steering_policy=steering,
        fallback_region=fallback,
        drained_regions=drained,
        session_affinity=affinity,
        region_pools=_read_region_pools(reader, regions, steering),
        monitor=_read_monitor(reader),
        notification_email=email,
        origin_certificate_validity_days=validity,
        manage_zone_settings=reader.boolean("manageZoneSettings", kind == "production"),
        edge_certificate_hosts=_edge_certificate_hosts(
            reader, kind, owner=owner, domain=domain, hostname=hostname, zone_name=zone_name
        ),
        protect=kind == "production",
    )
