"""Cluster generations: blue and green side by side in a region during an upgrade."""

from __future__ import annotations

import pytest

from components.regions import REGIONS
from tests.conftest import plan_error, plan_of

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"

TWO_IN_NYC3 = {
    "marketplace:generations": {
        "nyc3": [
            {"name": "blue", "kubernetesVersion": "1.33", "weight": 1},
            {"name": "green", "kubernetesVersion": "1.34", "weight": 0.1},
        ]
    }
}


def clusters(plan):
    return {r.name: r for r in plan.of_type(CLUSTER)}


def test_two_generations_plan_two_clusters_in_one_region_and_leave_the_others_unchanged():
    before = plan_of("production")
    after = plan_of("production", overrides=TWO_IN_NYC3)
    added = set(clusters(after)) - set(clusters(before))
    assert added == {"nyc3-green-doks"}
    green = clusters(after)["nyc3-green-doks"]
    blue = clusters(after)["nyc3-doks"]
    assert green.inputs["version"] == "1.34.3-do.1" and blue.inputs["version"] == "1.33.6-do.1"
    assert green.inputs["vpcUuid"] == blue.inputs["vpcUuid"], "both generations share the region's VPC"
    assert green.inputs["clusterSubnet"] != blue.inputs["clusterSubnet"]
    assert after.region_of(green, REGIONS) == "nyc3"
    (pool,) = (r for r in after.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool") if r.name == "nyc3-pool")
    origins = after.outputs["origins"]
    assert [(o["name"], o["address"], o["weight"]) for o in pool.inputs["origins"]] == [
        ("nyc3", origins["nyc3"], 1),
        ("nyc3-green", origins["nyc3-green"], 0.1),
    ]
    assert origins["nyc3"] != origins["nyc3-green"]
    assert pool.inputs["originSteering"] == {"policy": "random"}, "weights split a region's traffic"
    changed = {"nyc3-pool", "stack-resources"}
    now = {r.urn: r.inputs for r in after.resources}
    for resource in before.resources:
        if resource.name not in changed:
            assert now[resource.urn] == resource.inputs, f"{resource.urn} changed"


def test_declaring_blue_alone_renames_and_changes_nothing():
    plain = plan_of("production")
    declared = plan_of(
        "production",
        overrides={"marketplace:generations": {"fra1": [{"name": "blue", "kubernetesVersion": "1.33", "weight": 1}]}},
    )
    assert {r.urn: r.inputs for r in plain.resources} == {r.urn: r.inputs for r in declared.resources}


def test_green_alone_after_blue_is_retired_keeps_the_region_serving():
    plan = plan_of(
        "dev", overrides={"marketplace:generations": {"nyc3": [{"name": "green", "kubernetesVersion": "1.34", "weight": 1}]}}
    )
    assert set(clusters(plan)) == {"nyc3-green-doks"}


@pytest.mark.parametrize(
    ("generations", "message"),
    [
        ([{"name": "blue", "weight": 0}], "config 'marketplace:generations.nyc3': has no generation with weight above 0"),
        (
            [{"name": "blue", "weight": 0}, {"name": "green", "kubernetesVersion": "1.34", "weight": 0}],
            "config 'marketplace:generations.nyc3': has no generation with weight above 0",
        ),
        (
            [{"name": "blue", "weight": 1.5}],
            "config 'marketplace:generations.nyc3[0].weight': must be a number from 0 to 1, got 1.5",
        ),
        (
            [{"name": "blue", "weight": -0.1}],
            "config 'marketplace:generations.nyc3[0].weight': must be a number from 0 to 1, got -0.1",
        ),
        (
            [{"name": "purple", "weight": 1}],
            "config 'marketplace:generations.nyc3[0].name': must be 'blue' or 'green', got 'purple'",
        ),
        (
            [{"name": "blue", "weight": 1}, {"name": "blue", "weight": 0}],
            "config 'marketplace:generations.nyc3': generation 'blue' is declared twice",
        ),
        ([], "config 'marketplace:generations.nyc3': is empty: a region needs at least one generation"),
        (
            [
                {"name": "blue", "kubernetesVersion": "1.32", "weight": 1},
                {"name": "green", "kubernetesVersion": "1.34", "weight": 0},
            ],
            "config 'marketplace:generations.nyc3': green (1.34) is more than one minor version from blue (1.32); "
            "DOKS upgrades one minor at a time",
        ),
        (
            [
                {"name": "blue", "kubernetesVersion": "1.34", "weight": 1},
                {"name": "green", "kubernetesVersion": "1.32", "weight": 0},
            ],
            "config 'marketplace:generations.nyc3': blue (1.34) is more than one minor version from green (1.32)",
        ),
        (
            [{"name": "blue", "kubernetesVersion": "1.33.1", "weight": 1}],
            "config 'marketplace:generations.nyc3[0].kubernetesVersion': must be a minor",
        ),
        ([{"name": "blue", "weight": 1, "colour": "x"}], "config 'marketplace:generations.nyc3[0].colour': unknown field"),
    ],
)
def test_generation_guards(generations: list, message: str):
    error = plan_error("dev", overrides={"marketplace:generations": {"nyc3": generations}})
    assert error.startswith("stack 'dev': ")
    assert message in error


def test_generations_for_a_region_the_stack_does_not_run_are_refused():
    error = plan_error("dev", overrides={"marketplace:generations": {"fra1": [{"name": "blue", "weight": 1}]}})
    assert error == "stack 'dev': config 'marketplace:generations.fra1': region 'fra1' is not in marketplace:regions"
