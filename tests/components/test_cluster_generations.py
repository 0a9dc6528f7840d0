"""A region's cluster generations, grouped once (components/cluster.py generations_by_region)
for the edge's pools and the stack's `generations` outputs."""

from __future__ import annotations

from components.cluster import ClusterSpec, generations_by_region
from tests.conftest import plan_of
from tests.k8s_objects import NYC3_UPGRADING


# Production with nyc3 half-way through an upgrade (green deployed, taking no traffic yet):
# the tests of what differs between two generations of a region share this one plan.
def spec(region: str, generation: str) -> ClusterSpec:
    return ClusterSpec(region, generation, "1.36.1-do.0", "s-2vcpu-4gb", None, 1, False)  # type: ignore[arg-type]


def test_generations_are_grouped_by_region_in_the_order_declared() -> None:
    specs = {
        "sfo3": spec("sfo3", "blue"),
        "nyc3-green": spec("nyc3", "green"),
        "nyc3": spec("nyc3", "blue"),
        "sfo3-green": spec("sfo3", "green"),
    }
    grouped = generations_by_region(specs)
    assert {region: list(own) for region, own in grouped.items()} == {
        "sfo3": ["sfo3", "sfo3-green"],
        "nyc3": ["nyc3-green", "nyc3"],
    }
    assert list(grouped) == ["sfo3", "nyc3"]
    assert grouped["nyc3"]["nyc3-green"] is specs["nyc3-green"]


def test_a_region_upgrading_serves_from_both_generations_and_reports_both() -> None:
    plan = plan_of("production", overrides=NYC3_UPGRADING)
    reported = plan.outputs["generations"]
    assert {region: sorted(own) for region, own in reported.items()} == {
        "sfo3": ["blue"], "nyc3": ["blue", "green"], "fra1": ["blue"], "blr1": ["blue"], "sgp1": ["blue"],
    }  # fmt: skip
    assert (reported["nyc3"]["blue"]["weight"], reported["nyc3"]["green"]["weight"]) == (1, 0)
    pool = plan.one("cloudflare:index/loadBalancerPool:LoadBalancerPool", "nyc3-pool")
    assert [origin["name"] for origin in pool.inputs["origins"]] == ["nyc3", "nyc3-green"]
    assert list(plan.outputs["generationKubeconfigs"]["nyc3"]) == ["blue", "green"]
