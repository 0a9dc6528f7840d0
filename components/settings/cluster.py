"""Cluster and network settings: Kubernetes version, node pools, control plane, maintenance,
the stack's network block and the API token the Kubernetes providers use."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.addresses import allow_list_breadth_problem, is_documentation_range, parse_network
from components.kubernetes_versions import MINOR, SLUG
from components.network import MAX_BLOCKS
from components.platform import AllowedValue, platform_rules, value_problem
from components.prices import prices
from components.settings.reader import ConfigReader, Secret, shown


@dataclass(frozen=True)
class NodePool:
    size: str
    min_nodes: int
    max_nodes: int


@dataclass(frozen=True)
class MaintenanceWindow:
    day: str
    start_time: str


@dataclass(frozen=True)
class ClusterSettings:
    # Exact DOKS version slug of every generation that does not name its own.
    version: str
    # The workers pool (`marketplace:nodePool`): where the catalog runs; its size can
    # change without touching the cluster.
    node_pool: NodePool
    # The cluster's default pool: fixed per stack kind, never from config. Its size is
    # part of the cluster (a new size is a new cluster), so nothing may change it.
    system_pool: NodePool
    ha_control_plane: bool
    surge_upgrade: bool
    maintenance: MaintenanceWindow
    control_plane_allow_list: tuple[str, ...]
    # Production clusters are protected: `pulumi up` refuses to replace or delete one until
    # a reviewed change has lifted the protection (ops upgrade --step retire does).
    protect: bool


@dataclass(frozen=True)
class ClusterDefaults:
    node_pool: NodePool
    system_pool: NodePool
    ha_control_plane: bool
    maintenance: MaintenanceWindow
    network_block: int


CLUSTER_DEFAULTS: dict[str, ClusterDefaults] = {
    "production": ClusterDefaults(
        node_pool=NodePool("s-4vcpu-8gb", 3, 10),
        system_pool=NodePool("s-2vcpu-4gb", 2, 3),
        ha_control_plane=True,
        maintenance=MaintenanceWindow("sunday", "04:00"),
        network_block=0,
    ),
    "staging": ClusterDefaults(
        node_pool=NodePool("s-2vcpu-4gb", 2, 4),
        system_pool=NodePool("s-2vcpu-4gb", 1, 2),
        ha_control_plane=False,
        maintenance=MaintenanceWindow("saturday", "04:00"),
        network_block=1,
    ),
    "dev": ClusterDefaults(
        node_pool=NodePool("s-2vcpu-4gb", 1, 2),
        system_pool=NodePool("s-1vcpu-2gb", 1, 1),
        ha_control_plane=False,
        maintenance=MaintenanceWindow("any", "04:00"),
        network_block=2,
    ),
}

# Personal stacks take network blocks 3..63, picked from the owner's name. Two owners can
# land on the same block; set `marketplace:networkBlock` in a personal stack's config
# (`pulumi config set`) to move one of them.
_FIRST_PERSONAL_BLOCK = 3

_CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
_HH_MM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)
_TOKEN_ENV = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")


def droplet_prices() -> dict[str, dict[str, Any]]:
    return dict(prices()["droplets"])


@dataclass(frozen=True)
class NodeCapacity:
    """What one worker node of a droplet size offers pods (DOKS reserves part of its memory)."""

    millicores: int
    memory_bytes: int


def node_capacity(size: str) -> NodeCapacity:
    droplet = prices()["droplets"][size]
    memory = prices()["doksAllocatableMemoryGiB"][droplet["memoryGiB"]]
    return NodeCapacity(millicores=int(droplet["vcpu"]) * 1000, memory_bytes=int(memory * 2**30))


def check_node_size(reader: ConfigReader, key: str, size: Any) -> str:
    """`size` if it is a droplet size the program knows, else a refusal naming `key`."""
    sizes = droplet_prices()
    if not isinstance(size, str) or size not in sizes:
        raise reader.error(key, f"unknown droplet size {shown(size)}; known sizes: {', '.join(sizes)}")
    return size


def version_problem(version: object) -> str | None:
    """Why a configured Kubernetes version is not an exact DOKS slug, or None."""
    if isinstance(version, str) and SLUG.match(version):
        return None
    if isinstance(version, str) and MINOR.match(version):
        return (
            f'must be an exact DOKS version such as "{version}.1-do.0", got {shown(version)}: a minor alone moves to every '
            "new patch release on its own (doctl kubernetes options versions lists the exact ones)"
        )
    hint = ": quote it (YAML reads an unquoted version as a number)" if isinstance(version, (int, float)) else ""
    return f'must be an exact DOKS version such as "1.36.1-do.0", got {shown(version)}{hint}'


def read_version(reader: ConfigReader) -> str:
    version = reader.required_string("kubernetesVersion", "an exact DOKS version such as 1.36.1-do.0")
    problem = version_problem(version)
    if problem:
        raise reader.error("kubernetesVersion", problem)
    return version


def read_network_block(reader: ConfigReader, kind: str, owner: str | None) -> int:
    # Blocks 0..2 belong to production, staging and dev: a stack taking another kind's
    # block would share its address ranges (components/network.py promises none overlap).
    reserved = {defaults.network_block: name for name, defaults in CLUSTER_DEFAULTS.items()}
    default_block = (
        _FIRST_PERSONAL_BLOCK + zlib.crc32(owner.encode()) % (MAX_BLOCKS - _FIRST_PERSONAL_BLOCK)
        if owner
        else CLUSTER_DEFAULTS[kind].network_block
    )
    block = reader.integer("networkBlock", default_block, 0, MAX_BLOCKS - 1)
    holder = reserved.get(block)
    if holder is not None and (owner is not None or holder != kind):
        personal = f"{_FIRST_PERSONAL_BLOCK}..{MAX_BLOCKS - 1}"
        allowed = personal if owner else f"{CLUSTER_DEFAULTS[kind].network_block} or {personal}"
        raise reader.error("networkBlock", f"block {block} is reserved for the {holder} stack; this stack may take {allowed}")
    return block


def read_cluster(reader: ConfigReader, kind: str, version: str) -> ClusterSettings:
    defaults = CLUSTER_DEFAULTS[kind]
    return ClusterSettings(
        version=version,
        node_pool=_read_node_pool(reader, defaults.node_pool),
        system_pool=defaults.system_pool,
        ha_control_plane=reader.boolean("haControlPlane", defaults.ha_control_plane),
        surge_upgrade=reader.boolean("surgeUpgrade", True),
        maintenance=_read_maintenance(reader, defaults.maintenance),
        control_plane_allow_list=_read_allow_list(reader, kind),
        protect=kind == "production",
    )


def _read_node_pool(reader: ConfigReader, default: NodePool) -> NodePool:
    given = reader.obj("nodePool", {"size": str, "minNodes": int, "maxNodes": int}) or {}
    pool = NodePool(
        size=given.get("size", default.size),
        min_nodes=given.get("minNodes", default.min_nodes),
        max_nodes=given.get("maxNodes", default.max_nodes),
    )
    check_node_size(reader, "nodePool.size", pool.size)
    if pool.min_nodes < 1:
        raise reader.error("nodePool.minNodes", f"must be at least 1, got {pool.min_nodes}")
    if pool.min_nodes > pool.max_nodes:
        raise reader.error("nodePool.minNodes", f"({pool.min_nodes}) must not be above nodePool.maxNodes ({pool.max_nodes})")
    if pool.max_nodes > 100:
        raise reader.error("nodePool.maxNodes", f"must be at most 100, got {pool.max_nodes}")
    return pool


def _read_maintenance(reader: ConfigReader, default: MaintenanceWindow) -> MaintenanceWindow:
    given = reader.obj("maintenanceWindow", {"day": str, "startTime": str}) or {}
    window = MaintenanceWindow(day=given.get("day", default.day), start_time=given.get("startTime", default.start_time))
    days = platform_rules().allowed(_CLUSTER, "maintenancePolicy", "day")
    if value_problem(days, window.day):
        raise reader.error("maintenanceWindow.day", f"must be one of {', '.join(days.values)}, got {shown(window.day)}")
    if not _HH_MM.fullmatch(window.start_time):
        raise reader.error("maintenanceWindow.startTime", f"must be HH:MM (UTC), got {shown(window.start_time)}")
    return window


@dataclass(frozen=True)
class ApiRule:
    """What an API takes of each entry of an allow-list, and how a refusal says so."""

    rule: AllowedValue
    takes: str


def _read_allow_list(reader: ConfigReader, kind: str) -> tuple[str, ...]:
    entries = reader.string_list("controlPlaneAllowList", ())
    if not entries:
        raise reader.error(
            "controlPlaneAllowList",
            "is empty: the control-plane firewall would shut out everyone, the deploy runner included",
        )
    # The API takes public IPv4 addresses or CIDRs only (data/platform-rules.yaml).
    firewall = ApiRule(
        platform_rules().allowed(_CLUSTER, "controlPlaneFirewall", "allowedAddresses", "[*]"),
        "the control-plane firewall takes public IPv4 addresses or CIDRs only",
    )
    return read_allow_list(reader, "controlPlaneAllowList", entries, kind=kind, opens="the Kubernetes API", api=firewall)


def read_allow_list(
    reader: ConfigReader,
    key: str,
    entries: Sequence[str],
    *,
    kind: str,
    opens: str,
    ipv4: bool = False,
    api: ApiRule | None = None,
) -> tuple[str, ...]:
    """An allow-list (who may reach something), one rule for every key that holds one: each
    entry a plain, strict address or CIDR range (IPv4 only where the API takes no other);
    in production, the whole list admits less than an open door's share of the address space
    (components/addresses.py, the policy pack's rule too, so [0.0.0.0/1, 128.0.0.0/1] fails
    as 0.0.0.0/0 does); then each entry what the API takes, placeholders (RFC 5737) aside:
    the offline plan warns of those and `ops preflight` refuses them."""
    networks = []
    for entry in entries:
        network = parse_network(entry)
        if network is None or (ipv4 and network.version != 4):
            raise reader.error(key, f"{shown(entry)} is not an {'IPv4' if ipv4 else 'IP'} address or CIDR range")
        networks.append(network)
    # Before the per-entry rule: it names the /0 (or the blocks adding up to it) at fault.
    too_broad = allow_list_breadth_problem(networks) if kind == "production" else None
    if too_broad:
        raise reader.error(key, f"{too_broad}: that opens {opens} to the whole internet; production must list its networks")
    if api is not None:
        for entry, network in zip(entries, networks, strict=True):
            problem = None if is_documentation_range(network) else value_problem(api.rule, entry)
            if problem:
                raise reader.error(key, f"{problem}: {api.takes}")
    return tuple(entries)


def read_token(reader: ConfigReader, environ: Mapping[str, str]) -> Secret:
    dedicated = reader.secret("kubernetesApiToken")
    if dedicated:
        return dedicated
    provider_token = reader.secret("digitalocean:token")
    if provider_token:
        return provider_token
    for variable in _TOKEN_ENV:
        if environ.get(variable):
            return Secret(variable, environ[variable])
    raise reader.error(
        "digitalocean:token",
        "no DigitalOcean API token: export DIGITALOCEAN_TOKEN or run "
        f"pulumi config set --secret digitalocean:token <token> -s {reader.stack}",
    )
