"""What the program knows about DigitalOcean regions: static data, no cloud calls.

Every per-region value (address slot, coordinates for Cloudflare proximity steering,
the Cloudflare check regions near it) is keyed by slug, never by list position, so
adding or removing a region from a stack renames nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    # Cloudflare load-balancer region code (for region pools) and the monitor check
    # regions closest to the data centre.
    cloudflare_region: str
    check_regions: tuple[str, ...]
    spaces: bool


_KNOWN: tuple[Region, ...] = (
    Region("nyc1", "New York", 0, 40.7128, -74.0060, "ENAM", ("ENAM", "WNAM"), False),
    Region("nyc3", "New York", 1, 40.7128, -74.0060, "ENAM", ("ENAM", "WNAM"), True),
    Region("sfo2", "San Francisco", 2, 37.7749, -122.4194, "WNAM", ("WNAM", "ENAM"), True),
    Region("sfo3", "San Francisco", 3, 37.7749, -122.4194, "WNAM", ("WNAM", "ENAM"), True),
    Region("tor1", "Toronto", 4, 43.6532, -79.3832, "ENAM", ("ENAM", "WNAM"), False),
    Region("atl1", "Atlanta", 5, 33.7490, -84.3880, "ENAM", ("ENAM", "WNAM"), True),
    Region("ams3", "Amsterdam", 6, 52.3676, 4.9041, "WEU", ("WEU", "EEU"), True),
    Region("lon1", "London", 7, 51.5072, -0.1276, "WEU", ("WEU", "EEU"), False),
    Region("fra1", "Frankfurt", 8, 50.1109, 8.6821, "WEU", ("WEU", "EEU"), True),
    Region("blr1", "Bangalore", 9, 12.9716, 77.5946, "SAS", ("SAS", "SEAS"), True),
    Region("sgp1", "Singapore", 10, 1.3521, 103.8198, "SEAS", ("SEAS", "SAS"), True),
    Region("syd1", "Sydney", 11, -33.8688, 151.2093, "OC", ("OC", "SEAS"), True),
)

REGIONS: dict[str, Region] = {region.slug: region for region in _KNOWN}
