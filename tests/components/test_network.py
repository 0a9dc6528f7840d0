"""The address plan: no two ranges of any stack, region or generation overlap, so every stack
of an account gets its own VPC, pod and service ranges."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from components.network import MAX_BLOCKS, MAX_GENERATIONS, MAX_SLOTS, cluster_network, vpc_range
from components.regions import REGIONS


def test_no_two_ranges_overlap_across_stacks_regions_and_generations():
    ranges: list[tuple[str, ipaddress.IPv4Network]] = []
    for block, slot in itertools.product(range(MAX_BLOCKS), range(MAX_SLOTS)):
        ranges.append((f"vpc {block}/{slot}", ipaddress.IPv4Network(vpc_range(block, slot))))
        for generation in range(MAX_GENERATIONS):
            network = cluster_network(block, slot, generation)
            ranges.append((f"pods {block}/{slot}/{generation}", ipaddress.IPv4Network(network.pods)))
            ranges.append((f"services {block}/{slot}/{generation}", ipaddress.IPv4Network(network.services)))
    ranges.sort(key=lambda item: int(item[1].network_address))
    for (name_a, a), (name_b, b) in itertools.pairwise(ranges):
        assert not a.overlaps(b), f"{name_a} {a} overlaps {name_b} {b}"
    assert all(network.is_private for _, network in ranges)


def test_production_and_staging_never_share_a_pod_or_service_subnet():
    nyc3 = REGIONS["nyc3"].slot
    production, staging = cluster_network(0, nyc3), cluster_network(1, nyc3)
    assert production.pods != staging.pods and production.services != staging.services


def test_sizes_fit_the_platform_and_avoid_the_ranges_doks_uses_itself():
    network = cluster_network(2, REGIONS["sgp1"].slot, 1)
    vpc = ipaddress.IPv4Network(network.vpc)
    # DigitalOcean takes VPC ranges from /16 to /28 (openapi vpcs/models/vpc.yml).
    assert 16 <= vpc.prefixlen <= 28
    # Enough for the system pool, the workers' maximum and surge nodes at a /24 per node.
    assert ipaddress.IPv4Network(network.pods).prefixlen == 20
    reserved = [ipaddress.IPv4Network(r) for r in ("10.229.0.0/16", "10.244.0.0/16", "10.245.0.0/16", "10.246.0.0/16")]
    for block, slot, generation in itertools.product(range(MAX_BLOCKS), range(MAX_SLOTS), range(MAX_GENERATIONS)):
        each = cluster_network(block, slot, generation)
        for cidr in (each.vpc, each.pods, each.services):
            assert not any(ipaddress.IPv4Network(cidr).overlaps(r) for r in reserved), cidr


def test_region_slots_are_fixed_and_unique():
    slots = [region.slot for region in REGIONS.values()]
    assert len(slots) == len(set(slots)) and max(slots) < MAX_SLOTS
    # A region's addresses never depend on which other regions a stack has.
    assert cluster_network(0, REGIONS["nyc3"].slot).vpc == "10.192.4.0/22"


@pytest.mark.parametrize(("block", "slot", "generation"), [(64, 0, 0), (0, 16, 0), (0, 0, 2), (-1, 0, 0)])
def test_out_of_range_numbers_are_refused(block: int, slot: int, generation: int):
    with pytest.raises(ValueError):
        cluster_network(block, slot, generation)
