"""The address plan: which private ranges each VPC and cluster of a stack gets.

Ranges are derived from fixed numbers (the stack's network block, the region's slot,
the cluster generation), never from list positions, so a plan is stable as regions come
and go. Layout inside 10.0.0.0/8:

- 10.0.0.0/9    pod subnets, a /16 per (region slot, generation): 10.(2*slot+gen).0.0/16
- 10.128.0.0/13 service subnets, a /20 per (region slot, generation)
- 10.192.0.0/10 VPCs, a /16 per stack (network block 0..63), a /22 per region slot

Pod and service subnets never overlap a VPC of any stack, nor each other; VPCs of two
stacks never overlap, so stacks can share one DigitalOcean account (and peer later).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MAX_SLOTS = 64
MAX_BLOCKS = 64
MAX_GENERATIONS = 2

_PODS = ipaddress.IPv4Network("10.0.0.0/9")
_SERVICES = ipaddress.IPv4Network("10.128.0.0/13")
_VPCS = ipaddress.IPv4Network("10.192.0.0/10")


@dataclass(frozen=True)
class ClusterNetwork:
    vpc: str
    pods: str
    services: str


def _nth_subnet(parent: ipaddress.IPv4Network, prefix: int, index: int) -> ipaddress.IPv4Network:
    size = 2 ** (32 - prefix)
    network = ipaddress.IPv4Network((int(parent.network_address) + index * size, prefix))
    if not network.subnet_of(parent):
        raise ValueError(f"subnet {index} of size /{prefix} lies outside {parent}")
    return network


def vpc_range(block: int, slot: int) -> str:
    if not 0 <= block < MAX_BLOCKS:
        raise ValueError(f"network block {block} is outside 0..{MAX_BLOCKS - 1}")
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"region slot {slot} is outside 0..{MAX_SLOTS - 1}")
    return str(_nth_subnet(_VPCS, 22, block * MAX_SLOTS + slot))


def cluster_network(block: int, slot: int, generation: int = 0) -> ClusterNetwork:
    if not 0 <= generation < MAX_GENERATIONS:
        raise ValueError(f"generation index {generation} is outside 0..{MAX_GENERATIONS - 1}")
    index = slot * MAX_GENERATIONS + generation
    return ClusterNetwork(
        vpc=vpc_range(block, slot),
        pods=str(_nth_subnet(_PODS, 16, index)),
        services=str(_nth_subnet(_SERVICES, 20, index)),
    )
