"""What the program knows about DigitalOcean regions and Cloudflare's load-balancing regions:
static data, no cloud calls.

Every per-region value (address slot, coordinates for Cloudflare proximity steering,
the Cloudflare check regions near it) is keyed by slug, never by list position, so
adding or removing a region from a stack renames nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CLOUDFLARE_REGIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "cloudflare-regions.yaml"
# The check_regions value for all 13 load-balancing regions at once; Enterprise only
# (data/cloudflare-plans.yaml).
ALL_REGIONS = "ALL_REGIONS"


@dataclass(frozen=True)
class Region:
    slug: str
    city: str
    # Fixed forever: the region's address slot in components/network.py. Changing it
    # re-addresses the region's VPC and clusters, which DigitalOcean can only do by
    # replacing them.
    slot: int
    latitude: float
    longitude: float
    spaces: bool


_KNOWN: tuple[Region, ...] = (
    Region("nyc1", "New York", 0, 40.7128, -74.0060, False),
    Region("nyc3", "New York", 1, 40.7128, -74.0060, True),
    Region("sfo2", "San Francisco", 2, 37.7749, -122.4194, True),
    Region("sfo3", "San Francisco", 3, 37.7749, -122.4194, True),
    Region("tor1", "Toronto", 4, 43.6532, -79.3832, False),
    Region("atl1", "Atlanta", 5, 33.7490, -84.3880, True),
    Region("ams3", "Amsterdam", 6, 52.3676, 4.9041, True),
    Region("lon1", "London", 7, 51.5072, -0.1276, False),
    Region("fra1", "Frankfurt", 8, 50.1109, 8.6821, True),
    Region("blr1", "Bangalore", 9, 12.9716, 77.5946, True),
    Region("sgp1", "Singapore", 10, 1.3521, 103.8198, True),
    Region("syd1", "Sydney", 11, -33.8688, 151.2093, True),
)

REGIONS: dict[str, Region] = {region.slug: region for region in _KNOWN}


@dataclass(frozen=True)
class CloudflareRegion:
    """A Cloudflare load-balancing region, placed at one representative data centre."""

    code: str  # WNAM, ENAM, ... as the API spells it
    name: str
    pop: str  # IATA code of the representative data centre
    latitude: float
    longitude: float
    # Set when the region's PoPs do not all have the same nearest cluster.
    split: str | None


@cache
def cloudflare_regions() -> dict[str, CloudflareRegion]:
    """The 13 load-balancing regions, in the order Cloudflare's docs list them."""
    with CLOUDFLARE_REGIONS_FILE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return {
        code: CloudflareRegion(code, row["name"], row["pop"], float(row["latitude"]), float(row["longitude"]), row.get("split"))
        for code, row in document["regions"].items()
    }


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (latitude, longitude) points on a sphere of the Earth's mean radius."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def by_distance(code: str, slugs: tuple[str, ...] | list[str]) -> list[str]:
    """The given regions ordered by distance from a Cloudflare region's representative PoP."""
    where = cloudflare_regions()[code]
    return sorted(
        slugs,
        key=lambda slug: great_circle_km((where.latitude, where.longitude), (REGIONS[slug].latitude, REGIONS[slug].longitude)),
    )


def nearest_cloudflare_regions(slug: str, count: int) -> tuple[str, ...]:
    """The `count` Cloudflare regions whose representative PoPs are nearest a data centre,
    nearest first."""
    here = (REGIONS[slug].latitude, REGIONS[slug].longitude)
    regions = cloudflare_regions().values()
    return tuple(r.code for r in sorted(regions, key=lambda r: great_circle_km(here, (r.latitude, r.longitude)))[:count])
