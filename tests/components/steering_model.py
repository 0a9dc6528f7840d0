"""Which pool Cloudflare's load balancer sends a region's visitors to, worked out from a
plan's load balancer and pools by the rules Cloudflare documents (cloudflare-docs,
load-balancing/understand-basics/traffic-steering/steering-policies):

- proximity: "Use the pools' latitude and longitude to select the closest pool using the
  Cloudflare PoP location"; an unhealthy pool's traffic goes to the remaining pools "according
  to the traffic steering policy", i.e. the next closest.
- dynamic_latency: the lowest round-trip time, measured by the pools' health probes from
  the visitor's region; "If there is no current RTT data for your pool in a region ...
  Cloudflare directs traffic to the pools in failover order" (default_pools). Round-trip
  time is taken to grow with distance; pools with no data for the region are not compared.
- geo: the region's region_pools in order, then default_pools.
- off: default_pools in order.
- every pool down: the fallback pool.

A region is placed at its representative data centre (data/cloudflare-regions.yaml).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.regions import REGIONS, CloudflareRegion, cloudflare_regions, great_circle_km

POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
ALL_REGIONS = "ALL_REGIONS"


@dataclass(frozen=True)
class Pool:
    region: str  # the stack's region slug
    latitude: float
    longitude: float
    # None: every data centre probes it (the API's null).
    check_regions: tuple[str, ...] | None
    enabled: bool

    def distance_from(self, place: CloudflareRegion) -> float:
        return great_circle_km((place.latitude, place.longitude), (self.latitude, self.longitude))

    def measured_from(self, code: str) -> bool:
        return self.check_regions is None or ALL_REGIONS in self.check_regions or code in self.check_regions


@dataclass(frozen=True)
class LoadBalancer:
    steering: str
    default_pools: tuple[Pool, ...]
    fallback: Pool
    region_pools: Mapping[str, tuple[Pool, ...]]


def load_balancer(resources: Iterable[Any], pool_ids: Mapping[str, str]) -> LoadBalancer:
    """The load balancer of a plan (its planned resources and the `pools` output)."""
    resources = list(resources)
    region_of = {pool_id: region for region, pool_id in pool_ids.items()}
    pools: dict[str, Pool] = {}
    for resource in resources:
        if resource.type == POOL:
            region = resource.name.removesuffix("-pool")
            inputs = resource.inputs
            listed = inputs.get("checkRegions")
            pools[pool_ids[region]] = Pool(
                region,
                inputs["latitude"],
                inputs["longitude"],
                None if listed is None else tuple(listed),
                inputs["enabled"],
            )
    (lb,) = [resource.inputs for resource in resources if resource.type == LOAD_BALANCER]
    assert set(region_of) == set(pools)
    return LoadBalancer(
        steering=lb["steeringPolicy"],
        default_pools=tuple(pools[pool_id] for pool_id in lb["defaultPools"]),
        fallback=pools[lb["fallbackPool"]],
        region_pools={code: tuple(pools[pool_id] for pool_id in ids) for code, ids in (lb.get("regionPools") or {}).items()},
    )


def serving(lb: LoadBalancer, code: str, down: frozenset[str] = frozenset()) -> str:
    """The region whose pool serves visitors of Cloudflare region `code` while the pools
    of the regions in `down` are unhealthy."""
    place = cloudflare_regions()[code]
    healthy = [pool for pool in lb.default_pools if pool.enabled and pool.region not in down]
    if not healthy:
        return lb.fallback.region
    if lb.steering == "proximity":
        return min(healthy, key=lambda pool: pool.distance_from(place)).region
    if lb.steering == "dynamic_latency":
        measured = [pool for pool in healthy if pool.measured_from(code)]
        return (min(measured, key=lambda pool: pool.distance_from(place)) if measured else healthy[0]).region
    if lb.steering == "geo":
        listed = [pool for pool in lb.region_pools.get(code, ()) if pool in healthy]
        return (listed or healthy)[0].region
    if lb.steering == "off":
        return healthy[0].region
    raise ValueError(f"no model of steering policy {lb.steering!r}")


def nearest(lb: LoadBalancer, code: str, down: frozenset[str] = frozenset()) -> str:
    """What the catalog promises: the nearest healthy cluster (the fallback when none is),
    measured to where the cluster really is (components/regions.py), not to where its pool
    says it is: a pool placed wrong is steered wrong."""
    place = (cloudflare_regions()[code].latitude, cloudflare_regions()[code].longitude)
    healthy = [pool for pool in lb.default_pools if pool.enabled and pool.region not in down]
    if not healthy:
        return lb.fallback.region
    return min(
        healthy, key=lambda pool: great_circle_km(place, (REGIONS[pool.region].latitude, REGIONS[pool.region].longitude))
    ).region


def serving_table(lb: LoadBalancer) -> list[list[str]]:
    """Rows: region, its data centre, the serving cluster with every pool up, then with
    each pool down in turn (its own region shown as `-`)."""
    regions = [pool.region for pool in lb.default_pools]
    rows = []
    for code, place in cloudflare_regions().items():
        row = [f"{code} ({place.pop})", serving(lb, code)]
        for region in regions:
            row.append(serving(lb, code, frozenset({region})))
        rows.append(row)
    return rows


def render_markdown(lb: LoadBalancer) -> str:
    regions = [pool.region for pool in lb.default_pools]
    header = ["Cloudflare region (data centre)", "all up", *(f"{region} down" for region in regions)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in serving_table(lb)]
    return "\n".join(lines)
