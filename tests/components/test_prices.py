"""components/prices.py: one cached read of data/prices.yaml for every reader of prices."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.prices import prices
from components.settings.cluster import droplet_prices, node_capacity
from ops.review.cost import load_prices
from policy import cost


def test_the_settings_the_cost_review_and_the_pack_read_one_table_once() -> None:
    table = prices()
    assert load_prices() is table and cost.prices() is table and prices() is table
    assert droplet_prices() == table["droplets"]
    size = next(iter(table["droplets"]))
    assert node_capacity(size).millicores == int(table["droplets"][size]["vcpu"]) * 1000


def test_a_table_that_is_no_mapping_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "prices.yaml"
    broken.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"prices\.yaml is not a mapping of price sections"):
        prices(broken)
