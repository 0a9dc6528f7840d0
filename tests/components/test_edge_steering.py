"""Every Cloudflare region is served by its nearest healthy cluster, and by the next nearest
when that one is down, whatever the Cloudflare plan: worked out from the planned load
balancer and pools (tests/components/steering_model.py) for each of the 13 regions with
every pool up and with each one down. docs/edge.md shows the same table."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from components.regions import REGIONS, cloudflare_regions, great_circle_km
from components.settings.edge import CLOUDFLARE_REGIONS
from tests.components import steering_model as model
from tests.conftest import plan_of

ROOT = Path(__file__).resolve().parents[2]
ALL = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")
DOWN = [frozenset(), *(frozenset({region}) for region in ALL)]
# Free, Pro and Business steer alike (tests/components/settings/test_edge.py): Pro stands for them.
PLANS = ["pro", "enterprise"]


def production(plan: str, **overrides: object) -> model.LoadBalancer:
    # Pro is the project's default: the plain production plan, which other tests share.
    if plan != "pro":
        overrides["marketplace:cloudflarePlan"] = plan
    result = plan_of("production", overrides=overrides or None)
    return model.load_balancer(result.resources, result.outputs["pools"])


@pytest.mark.parametrize("plan", PLANS)
def test_every_region_is_served_by_its_nearest_healthy_cluster(plan: str) -> None:
    lb = production(plan)
    for code in CLOUDFLARE_REGIONS:
        for down in DOWN:
            assert model.serving(lb, code, down) == model.nearest(lb, code, down), (plan, lb.steering, code, sorted(down))


def test_geo_steering_also_serves_every_region_from_its_nearest_healthy_cluster() -> None:
    lb = production("pro", **{"marketplace:steeringPolicy": "geo"})
    assert set(lb.region_pools) == set(CLOUDFLARE_REGIONS)
    for code in CLOUDFLARE_REGIONS:
        for down in DOWN:
            assert model.serving(lb, code, down) == model.nearest(lb, code, down), (code, sorted(down))


def test_dynamic_latency_has_round_trip_data_from_every_region() -> None:
    # Enterprise: ALL_REGIONS; elsewhere the 13 regions are listed (ALL_REGIONS is Enterprise only).
    enterprise = production("enterprise")
    assert enterprise.steering == "dynamic_latency"
    assert {pool.check_regions for pool in enterprise.default_pools} == {("ALL_REGIONS",)}
    business = production("business", **{"marketplace:steeringPolicy": "dynamic_latency"})
    assert {pool.check_regions for pool in business.default_pools} == {CLOUDFLARE_REGIONS}


def test_the_steering_table_for_production() -> None:
    """Spelled out for production's default plan, the rows docs/edge.md shows."""
    table = {row[0]: row[1:] for row in model.serving_table(production("pro"))}
    # all up, then sfo3, nyc3, fra1, blr1, sgp1 down
    assert table == {
        "WNAM (SJC)": ["sfo3", "nyc3", "sfo3", "sfo3", "sfo3", "sfo3"],
        "ENAM (IAD)": ["nyc3", "nyc3", "sfo3", "nyc3", "nyc3", "nyc3"],
        "WEU (CDG)": ["fra1", "fra1", "fra1", "nyc3", "fra1", "fra1"],
        "EEU (WAW)": ["fra1", "fra1", "fra1", "blr1", "fra1", "fra1"],
        "NSAM (BOG)": ["nyc3", "nyc3", "sfo3", "nyc3", "nyc3", "nyc3"],
        "SSAM (GRU)": ["nyc3", "nyc3", "fra1", "nyc3", "nyc3", "nyc3"],
        "OC (SYD)": ["sgp1", "sgp1", "sgp1", "sgp1", "sgp1", "blr1"],
        "ME (DXB)": ["blr1", "blr1", "blr1", "blr1", "fra1", "blr1"],
        "NAF (CAI)": ["fra1", "fra1", "fra1", "blr1", "fra1", "fra1"],
        "SAF (JNB)": ["blr1", "blr1", "blr1", "blr1", "sgp1", "blr1"],
        "SAS (BOM)": ["blr1", "blr1", "blr1", "blr1", "sgp1", "blr1"],
        "SEAS (BKK)": ["sgp1", "sgp1", "sgp1", "sgp1", "sgp1", "blr1"],
        "NEAS (NRT)": ["sgp1", "sgp1", "sgp1", "sgp1", "sgp1", "blr1"],
    }


def test_docs_show_the_table_the_plan_gives() -> None:
    doc = (ROOT / "docs" / "edge.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- steering table -->\n(.*?)\n<!-- end steering table -->", doc, re.DOTALL)
    assert found is not None, "docs/edge.md has no steering table"
    assert found.group(1).strip() == model.render_markdown(production("pro"))


def test_the_model_finds_the_failover_order_where_probes_measure_nothing() -> None:
    """The model is not the promise restated: two check regions per pool under dynamic
    latency leave most of the world to the failover order (sfo3 first)."""
    lb = production("pro")
    two_regions = {
        "sfo3": ("WNAM", "ENAM"),
        "nyc3": ("ENAM", "WNAM"),
        "fra1": ("WEU", "EEU"),
        "blr1": ("SAS", "SEAS"),
        "sgp1": ("SEAS", "SAS"),
    }
    pools = tuple(replace(pool, check_regions=two_regions[pool.region]) for pool in lb.default_pools)
    narrow = model.LoadBalancer("dynamic_latency", pools, pools[0], {})
    assert model.serving(narrow, "SAF") == "sfo3"  # Johannesburg served from San Francisco
    assert model.serving(narrow, "WEU", frozenset({"fra1"})) == "sfo3"  # not nyc3
    assert model.nearest(narrow, "WEU", frozenset({"fra1"})) == "nyc3"
    wrong = [code for code in CLOUDFLARE_REGIONS if model.serving(narrow, code) != model.nearest(narrow, code)]
    # Oceania, North-East Asia, the Middle East, Africa and South America.
    assert wrong == ["NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "NEAS"]


@pytest.mark.parametrize("plan", PLANS)
def test_every_pool_down_sends_everyone_to_the_fallback(plan: str) -> None:
    """Production names no fallbackRegion: the fallback pool is its first region's (sfo3)."""
    lb = production(plan)
    assert lb.fallback.region == "sfo3"
    for code in CLOUDFLARE_REGIONS:
        assert model.serving(lb, code, frozenset(ALL)) == "sfo3"


def test_a_pool_placed_away_from_its_cluster_is_not_its_nearest() -> None:
    """The promise is measured to the clusters' real places: pools at each other's
    coordinates serve some region from the wrong cluster."""
    lb = production("pro")
    sfo3, nyc3 = (next(pool for pool in lb.default_pools if pool.region == region) for region in ("sfo3", "nyc3"))
    swapped = tuple(
        replace(pool, latitude=nyc3.latitude, longitude=nyc3.longitude)
        if pool is sfo3
        else replace(pool, latitude=sfo3.latitude, longitude=sfo3.longitude)
        if pool is nyc3
        else pool
        for pool in lb.default_pools
    )
    misplaced = replace(lb, default_pools=swapped)
    assert model.serving(misplaced, "WNAM") == "nyc3" != model.nearest(misplaced, "WNAM")


def test_each_pool_is_checked_from_the_three_regions_nearest_its_cluster() -> None:
    pools = {pool.name.removesuffix("-pool"): pool for pool in plan_of("production").of_type(model.POOL)}
    assert {region: pool.inputs["checkRegions"] for region, pool in pools.items()} == {
        "sfo3": ["WNAM", "ENAM", "NSAM"],
        "nyc3": ["ENAM", "NSAM", "WNAM"],
        "fra1": ["WEU", "EEU", "NAF"],
        "blr1": ["SAS", "SEAS", "ME"],
        "sgp1": ["SEAS", "SAS", "NEAS"],
    }
    # Checked independently of nearest_cloudflare_regions: an odd number of regions, and no
    # region left out nearer the cluster than one listed.
    for region, pool in pools.items():
        listed = pool.inputs["checkRegions"]
        assert len(listed) % 2 == 1 and len(listed) >= 3
        here = (REGIONS[region].latitude, REGIONS[region].longitude)
        distance = {code: great_circle_km(here, (p.latitude, p.longitude)) for code, p in cloudflare_regions().items()}
        assert max(distance[code] for code in listed) < min(distance[code] for code in distance if code not in listed), region


def test_the_region_data_names_the_thirteen_regions_the_api_takes() -> None:
    assert list(cloudflare_regions()) == [
        "WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS",
    ]  # fmt: skip
    for place in cloudflare_regions().values():
        assert -90 <= place.latitude <= 90 and -180 <= place.longitude <= 180
        assert re.fullmatch(r"[A-Z]{3}", place.pop)
