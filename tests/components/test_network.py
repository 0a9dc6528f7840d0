"""The address plan never overlaps within a stack, and VPCs never overlap across stacks."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from components.network import MAX_BLOCKS, MAX_GENERATIONS, MAX_SLOTS, cluster_network, vpc_range
from components.regions import REGIONS


def test_no_two_ranges_overlap_across_regions_generations_and_stacks():
    ranges: list[tuple[str, ipaddress.IPv4Network]] = []
    for slot, generation in itertools.product(range(MAX_SLOTS), range(MAX_GENERATIONS)):
        network = cluster_network(0, slot, generation)
        ranges.append((f"pods {slot}/{generation}", ipaddress.IPv4Network(network.pods)))
        ranges.append((f"services {slot}/{generation}", ipaddress.IPv4Network(network.services)))
    for block, slot in itertools.product(range(MAX_BLOCKS), range(MAX_SLOTS)):
        ranges.append((f"vpc {block}/{slot}", ipaddress.IPv4Network(vpc_range(block, slot))))
    ranges.sort(key=lambda item: int(item[1].network_address))
    for (name_a, a), (name_b, b) in itertools.pairwise(ranges):
        assert not a.overlaps(b), f"{name_a} {a} overlaps {name_b} {b}"
    assert all(network.is_private for _, network in ranges)


def test_region_slots_are_fixed_and_unique():
    slots = [region.slot for region in REGIONS.values()]
    assert len(slots) == len(set(slots)) and max(slots) < MAX_SLOTS
    # A region's addresses never depend on which other regions a stack has.
    assert cluster_network(0, REGIONS["nyc3"].slot).vpc == "10.192.4.0/22"


@pytest.mark.parametrize(("block", "slot", "generation"), [(64, 0, 0), (0, 64, 0), (0, 0, 2), (-1, 0, 0)])
def test_out_of_range_numbers_are_refused(block: int, slot: int, generation: int):
    with pytest.raises(ValueError):
        cluster_network(block, slot, generation)
