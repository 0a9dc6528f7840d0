"""Generation settings: the guards on blue and green generations of a region."""

from __future__ import annotations

import pytest

from tests.conftest import plan_error


@pytest.mark.parametrize(
    ("generations", "message"),
    [
        ([{"name": "blue", "weight": 0}], "config 'marketplace:generations.nyc3': has no generation with weight above 0"),
        (
            [{"name": "blue", "weight": 0}, {"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 0}],
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
                {"name": "blue", "kubernetesVersion": "1.35.6-do.0", "weight": 1},
                {"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 0},
            ],
            "config 'marketplace:generations.nyc3': green (1.37.1-do.0) is more than one minor version from blue "
            "(1.35.6-do.0); DOKS upgrades one minor at a time",
        ),
        (
            [
                {"name": "blue", "kubernetesVersion": "1.37.1-do.0", "weight": 1},
                {"name": "green", "kubernetesVersion": "1.35.6-do.0", "weight": 0},
            ],
            "config 'marketplace:generations.nyc3': blue (1.37.1-do.0) is more than one minor version from green",
        ),
        (
            [{"name": "blue", "kubernetesVersion": "1.33.1", "weight": 1}],
            "config 'marketplace:generations.nyc3[0].kubernetesVersion': must be an exact DOKS version such as "
            "\"1.36.1-do.0\", got '1.33.1'",
        ),
        (
            [{"name": "blue", "kubernetesVersion": "1.37", "weight": 1}],
            "config 'marketplace:generations.nyc3[0].kubernetesVersion': must be an exact DOKS version such as "
            "\"1.37.1-do.0\", got '1.37': a minor alone moves to every new patch release on its own",
        ),
        (
            [{"name": "blue", "weight": 1, "protect": False}],
            "config 'marketplace:generations.nyc3[0].protect': is false while blue still serves (weight 1)",
        ),
        (
            [{"name": "blue", "weight": 1, "protect": "no"}],
            "config 'marketplace:generations.nyc3[0].protect': must be true or false, got 'no'",
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
