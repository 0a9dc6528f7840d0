"""The address plan: which private ranges each VPC and cluster of a stack gets.

Ranges are derived from fixed numbers (the stack's network block, the region's slot,
the cluster generation), never from list positions, so a plan is stable as regions come
and go. Layout inside 10.0.0.0/8:

- 10.0.0.0/9    pod subnets, a /20 per (network block, region slot, generation)
- 10.128.0.0/13 service subnets, a /24 per (network block, region slot, generation)
- 10.192.0.0/12 VPCs, a /22 per (network block, region slot)

Every range of every stack is distinct: VPC ranges must not overlap any other network of
the account (digitalocean/openapi vpcs/models/vpc.yml), and pod and service subnets are
kept unique per account too. DigitalOcean does not say whether clusters in separate VPCs
may reuse them; unique ranges are routable once any two VPCs are peered, and two stacks'
clusters in one region never meet (production and staging nyc3 once both had 10.2.0.0/16).

Sizes: a /20 pod subnet holds 16 nodes at a /24 per node (the system pool's 3, the workers'
up to 10, and surge nodes during an upgrade); 256 Services per cluster. The ranges DOKS is
reported to use itself (10.229/16, 10.244/16, 10.245/16, 10.246/16) lie outside all three.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Region slots in use run 0..11 (components/regions.py); 16 leaves room for four more.
MAX_SLOTS = 16
MAX_BLOCKS = 64
MAX_GENERATIONS = 2

_PODS = ipaddress.IPv4Network("10.0.0.0/9")
_SERVICES = ipaddress.IPv4Network("10.128.0.0/13")
_VPCS = ipaddress.IPv4Network("10.192.0.0/12")
POD_PREFIX = 20
SERVICE_PREFIX = 24
VPC_PREFIX = 22


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


def _check(block: int, slot: int, generation: int = 0) -> None:
    if not 0 <= block < MAX_BLOCKS:
        raise ValueError(f"network block {block} is outside 0..{MAX_BLOCKS - 1}")
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"region slot {slot} is outside 0..{MAX_SLOTS - 1}")
    if not 0 <= generation < MAX_GENERATIONS:
        raise ValueError(f"generation index {generation} is outside 0..{MAX_GENERATIONS - 1}")


def vpc_range(block: int, slot: int) -> str:
    _check(block, slot)
    return str(_nth_subnet(_VPCS, VPC_PREFIX, block * MAX_SLOTS + slot))


def cluster_network(block: int, slot: int, generation: int = 0) -> ClusterNetwork:
    _check(block, slot, generation)
    index = (block * MAX_SLOTS + slot) * MAX_GENERATIONS + generation
    return ClusterNetwork(
        vpc=vpc_range(block, slot),
        pods=str(_nth_subnet(_PODS, POD_PREFIX, index)),
        services=str(_nth_subnet(_SERVICES, SERVICE_PREFIX, index)),
    )
