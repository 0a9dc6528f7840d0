"""Generation settings: the guards on blue and green generations of a region."""

from __future__ import annotations

import datetime
import json

import pytest

from components.settings import ConfigError, parse_settings
from offline.stack_config import load_stack_config
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
        (
            [{"name": "blue", "wieght": 1}],
            "config 'marketplace:generations.nyc3[0].wieght': unknown field; did you mean 'weight'?",
        ),
        (
            [{"name": "blue", "weight": "0.5"}],
            "config 'marketplace:generations.nyc3[0].weight': must be a number, got '0.5': remove the quotes",
        ),
        ([{"name": "blue", "weight": True}], "config 'marketplace:generations.nyc3[0].weight': must be a number, got true"),
    ],
)
def test_generation_guards(generations: list, message: str):
    error = plan_error("dev", overrides={"marketplace:generations": {"nyc3": generations}})
    assert error.startswith("stack 'dev': ")
    assert message in error


def test_generations_for_a_region_the_stack_does_not_run_are_refused():
    error = plan_error("dev", overrides={"marketplace:generations": {"fra1": [{"name": "blue", "weight": 1}]}})
    assert error == "stack 'dev': config 'marketplace:generations.fra1': region 'fra1' is not in marketplace:regions"


# --- version lifecycle: data/kubernetes-versions.yaml on a given day ---------------------

BASE = {key: value for key, value in load_stack_config("dev-base").values.items() if key.startswith("marketplace:")}
TOKEN = {"DIGITALOCEAN_TOKEN": "dop_v1_test"}


def settings_on(day: datetime.date, **values: object):
    config = {**BASE, **{key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}}
    return parse_settings("dev", config, frozenset(), environ=TOKEN, today=day)


def test_a_region_only_on_an_ended_minor_is_refused_with_the_way_out():
    # 1.35 ends on 2027-02-28: on the day the table was read it is only near its end.
    assert settings_on(datetime.date(2026, 12, 6), **{"marketplace:kubernetesVersion": "1.35.6-do.0"}).warnings
    with pytest.raises(ConfigError) as caught:
        settings_on(datetime.date(2027, 3, 1), **{"marketplace:kubernetesVersion": "1.35.6-do.0"})
    assert str(caught.value) == (
        "stack 'dev': config 'marketplace:kubernetesVersion': blue in nyc3 runs 1.35.6-do.0: Kubernetes 1.35 reached "
        "its end of life on 2027-02-28: DigitalOcean force-upgrades such clusters to the next minor; upgrade: "
        "ops upgrade nyc3 --to 1.36 --step add --stack dev"
    )


def test_an_ended_minor_whose_upgrade_is_under_way_is_only_warned_about():
    upgrading = {
        "marketplace:generations": {
            "nyc3": [
                {"name": "blue", "kubernetesVersion": "1.35.6-do.0", "weight": 1},
                {"name": "green", "kubernetesVersion": "1.36.1-do.0", "weight": 0},
            ]
        }
    }
    settings = settings_on(datetime.date(2027, 3, 1), **upgrading)
    assert settings.warnings == (
        "stack 'dev': blue in nyc3 runs 1.35 (1.35.6-do.0): Kubernetes 1.35 reached its end of life on 2027-02-28: "
        "DigitalOcean force-upgrades such clusters to the next minor; its upgrade is under way",
    )


def test_a_minor_within_ninety_days_of_its_end_is_warned_about():
    assert settings_on(datetime.date(2026, 12, 6)).warnings == ()
    (warning,) = settings_on(datetime.date(2027, 4, 1)).warnings
    assert warning == (
        "stack 'dev': blue in nyc3 runs 1.36 (1.36.1-do.0): Kubernetes 1.36 reaches its end of life on 2027-06-28, "
        "in 88 days; upgrade nyc3 before then"
    )


@pytest.mark.parametrize(
    ("generations", "key"),
    [
        # The generation pins the ended version itself: its own key is at fault.
        (
            [{"name": "blue", "kubernetesVersion": "1.35.6-do.0", "weight": 1}],
            "marketplace:generations.nyc3[0].kubernetesVersion",
        ),
        (
            [
                {"name": "green", "kubernetesVersion": "1.35.6-do.0", "weight": 1},
                {"name": "blue", "kubernetesVersion": "1.35.6-do.0", "weight": 0},
            ],
            "marketplace:generations.nyc3[1].kubernetesVersion",
        ),
        # It names no version: it runs the stack's, and that key is at fault.
        ([{"name": "green", "weight": 1}], "marketplace:kubernetesVersion"),
    ],
)
def test_an_ended_version_is_blamed_on_the_key_it_came_from(generations: list[dict[str, object]], key: str):
    with pytest.raises(ConfigError) as caught:
        settings_on(
            datetime.date(2027, 3, 1),
            **{"marketplace:kubernetesVersion": "1.35.6-do.0", "marketplace:generations": {"nyc3": generations}},
        )
    assert str(caught.value).startswith(f"stack 'dev': config '{key}': ")
