"""Monitoring and log settings: Prometheus on each cluster, the region that runs the stack's
one Grafana, and the stack's log store (Managed OpenSearch) that every cluster ships to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.settings.cluster import read_allow_list
from components.settings.reader import ConfigReader, Secret, shown

OPENSEARCH_FILE = Path(__file__).resolve().parents[2] / "data" / "opensearch.yaml"


@dataclass(frozen=True)
class LogStoreSettings:
    """The stack's Managed OpenSearch cluster (OpenSearch Dashboards included)."""

    enabled: bool
    size: str
    node_count: int
    # Daily indices older than this are deleted by the store's ISM policy.
    retention_days: int
    # Besides the stack's clusters, who may reach the store (operators opening Dashboards).
    operator_networks: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class MonitoringSettings:
    enabled: bool
    # None: the Grafana chart generates one and keeps it in the cluster.
    grafana_admin_password: Secret | None
    # The region whose cluster runs the stack's one Grafana; the log store lives there too.
    hub_region: str
    log_store: LogStoreSettings


# Prometheus and Grafana cost a node's worth of memory: dev kinds opt in.
MONITORING_DEFAULTS = {"production": True, "staging": True, "dev": False}
# Per kind, in the shape of `marketplace:logStore`. Production gets three nodes (OpenSearch
# has no standby nodes: replicas on three nodes are its high availability) and a month of
# logs; dev kinds the smallest plan, off unless a developer turns it on.
LOG_STORE_DEFAULTS: dict[str, dict[str, Any]] = {
    "production": {"enabled": True, "size": "db-s-2vcpu-4gb", "nodeCount": 3, "retentionDays": 30},
    "staging": {"enabled": True, "size": "db-s-1vcpu-2gb", "nodeCount": 1, "retentionDays": 7},
    "dev": {"enabled": False, "size": "db-s-1vcpu-2gb", "nodeCount": 1, "retentionDays": 3},
}
PREFERRED_HUB = "nyc3"
MAX_RETENTION_DAYS = 365


@cache
def opensearch_options(path: Path = OPENSEARCH_FILE) -> dict[str, Any]:
    """DigitalOcean's Managed OpenSearch offer (data/opensearch.yaml)."""
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def read_monitoring(
    reader: ConfigReader, kind: str, regions: tuple[str, ...], operator_networks: tuple[str, ...]
) -> MonitoringSettings:
    """`operator_networks`: the default of logStore.operatorNetworks (the control-plane
    allow-list: whoever may reach the clusters' API may open the logs)."""
    if reader.raw("logShipping") is not None:
        raise reader.error(
            "logShipping",
            "is no longer read: every cluster ships its logs to the stack's own log store (configure it with marketplace:logStore)",
        )
    hub = reader.string("observabilityRegion") or (PREFERRED_HUB if PREFERRED_HUB in regions else regions[0])
    if hub not in regions:
        raise reader.error("observabilityRegion", f"{shown(hub)} is not one of the stack's regions ({', '.join(regions)})")
    return MonitoringSettings(
        enabled=reader.boolean("monitoring", MONITORING_DEFAULTS[kind]),
        grafana_admin_password=reader.secret("grafanaAdminPassword"),
        hub_region=hub,
        log_store=_read_log_store(reader, kind, hub, operator_networks),
    )


def _read_log_store(reader: ConfigReader, kind: str, region: str, operator_networks: tuple[str, ...]) -> LogStoreSettings:
    fields = {"enabled": bool, "size": str, "nodeCount": int, "retentionDays": int, "operatorNetworks": list}
    given = {**LOG_STORE_DEFAULTS[kind], **(reader.obj("logStore", fields) or {})}
    options = opensearch_options()
    layouts: dict[int, list[str]] = options["layouts"]
    count, size = given["nodeCount"], given["size"]
    if count not in layouts:
        counts = ", ".join(str(n) for n in layouts)
        raise reader.error(
            "logStore.nodeCount", f"must be one of {counts} (the node counts OpenSearch is offered with), got {count}"
        )
    if size not in layouts[count]:
        raise reader.error(
            "logStore.size", f"{shown(size)} is not offered with {count} node(s); offered: {', '.join(layouts[count])}"
        )
    retention = given["retentionDays"]
    if not 1 <= retention <= MAX_RETENTION_DAYS:
        raise reader.error("logStore.retentionDays", f"must be between 1 and {MAX_RETENTION_DAYS}, got {retention}")
    if given["enabled"] and region not in options["regions"]:
        raise reader.error(
            "observabilityRegion",
            f"DigitalOcean offers no Managed OpenSearch in {shown(region)}: pick another region for the log store",
        )
    networks = given.get("operatorNetworks", list(operator_networks))
    return LogStoreSettings(
        enabled=given["enabled"],
        size=size,
        node_count=count,
        retention_days=retention,
        operator_networks=_read_networks(reader, networks, kind),
        version=str(options["default_version"]),
    )


def _read_networks(reader: ConfigReader, networks: list[Any], kind: str) -> tuple[str, ...]:
    key = "logStore.operatorNetworks"
    for entry in networks:
        if not isinstance(entry, str):
            raise reader.error(key, f"must be a list of IPv4 addresses or CIDR ranges, got {shown(entry)}")
    # The database firewall's ip_addr rules take IPv4 (openapi databases firewall_rule.yml).
    return read_allow_list(reader, key, networks, kind=kind, opens="production's log store", ipv4=True)
