"""Monitoring and log settings: Prometheus and Grafana on each cluster, and where logs go."""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.addresses import dns_name_problem, parse_address
from components.settings.reader import ConfigReader, Secret, shown

_INDEX = re.compile(r"[a-z0-9][a-z0-9_.-]{0,254}", re.ASCII)


@dataclass(frozen=True)
class LogShipping:
    """An Elasticsearch endpoint that fluent-bit ships container logs to."""

    host: str
    port: int
    index: str
    tls: bool


@dataclass(frozen=True)
class MonitoringSettings:
    enabled: bool
    # None: the Grafana chart generates one and keeps it in the cluster.
    grafana_admin_password: Secret | None
    log_shipping: LogShipping | None


# Prometheus and Grafana cost a node's worth of memory: dev kinds opt in.
MONITORING_DEFAULTS = {"production": True, "staging": True, "dev": False}


def read_monitoring(reader: ConfigReader, kind: str) -> MonitoringSettings:
    return MonitoringSettings(
        enabled=reader.boolean("monitoring", MONITORING_DEFAULTS[kind]),
        grafana_admin_password=reader.secret("grafanaAdminPassword"),
        log_shipping=_read_log_shipping(reader),
    )


def _read_log_shipping(reader: ConfigReader) -> LogShipping | None:
    given = reader.obj("logShipping", {"host": str, "port": int, "index": str, "tls": bool})
    if given is None:
        return None
    host = given.get("host", "").strip()
    if not host:
        raise reader.error("logShipping.host", "is missing: name the Elasticsearch host logs are shipped to")
    # The host ends up in fluent-bit's configuration: only a name or an address may get there.
    name_problem = dns_name_problem(host, min_labels=1)
    if name_problem and parse_address(host) is None:
        raise reader.error("logShipping.host", f"must be a DNS name or an IP address, got {shown(host)}, which {name_problem}")
    port = given.get("port", 9200)
    if not 1 <= port <= 65535:
        raise reader.error("logShipping.port", f"must be between 1 and 65535, got {port}")
    index = given.get("index", "marketplace")
    if not _INDEX.fullmatch(index):
        raise reader.error("logShipping.index", f"must be a lowercase Elasticsearch index name, got {shown(index)}")
    return LogShipping(host=host, port=port, index=index, tls=given.get("tls", True))
