"""Monitoring and log store settings: defaults per kind, and the exact refusals."""

from __future__ import annotations

import json

import pytest

from components.settings import ConfigError
from components.settings import monitoring as monitoring_settings
from components.settings.monitoring import LOG_STORE_DEFAULTS, opensearch_options
from tests.stack_settings import settings_of


@pytest.mark.parametrize(
    ("stack", "enabled", "size", "nodes", "days"),
    [
        ("production", True, "db-s-2vcpu-4gb", 3, 30),
        ("staging", True, "db-s-1vcpu-2gb", 1, 7),
        ("dev", False, "db-s-1vcpu-2gb", 1, 3),
        ("dev-alice", False, "db-s-1vcpu-2gb", 1, 3),
    ],
)
def test_log_store_defaults_per_kind(stack: str, enabled: bool, size: str, nodes: int, days: int) -> None:
    store = settings_of(stack).monitoring.log_store
    assert (store.enabled, store.size, store.node_count, store.retention_days, store.version) == (enabled, size, nodes, days, "2")
    # Operators reach Dashboards from where they reach the clusters' API.
    assert store.operator_networks == ("203.0.113.0/24",)


def test_every_default_is_a_layout_digitalocean_offers() -> None:
    layouts = opensearch_options()["layouts"]
    for kind, store in LOG_STORE_DEFAULTS.items():
        assert store["size"] in layouts[store["nodeCount"]], kind


def test_the_hub_is_nyc3_when_the_stack_runs_there_else_its_first_region() -> None:
    assert settings_of("production").monitoring.hub_region == "nyc3"
    settings = settings_of("staging", {"marketplace:regions": json.dumps(["fra1", "sgp1"])})
    assert settings.monitoring.hub_region == "fra1"
    settings = settings_of("staging", {"marketplace:observabilityRegion": "sgp1"})
    assert settings.monitoring.hub_region == "sgp1"


def test_a_stack_overrides_single_log_store_fields() -> None:
    store = settings_of(
        "dev-alice", {"marketplace:logStore": json.dumps({"enabled": True, "retentionDays": 1, "operatorNetworks": []})}
    ).monitoring.log_store
    assert (store.enabled, store.retention_days, store.size, store.operator_networks) == (True, 1, "db-s-1vcpu-2gb", ())


def refusal(stack: str, extra: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_of(stack, extra)
    return str(caught.value)


@pytest.mark.parametrize(
    ("stack", "extra", "message"),
    [
        (
            "production",
            {"marketplace:logShipping": '{"host": "logs.example.com"}'},
            "config 'marketplace:logShipping': is no longer read: every cluster ships its logs to the stack's own log "
            "store (configure it with marketplace:logStore)",
        ),
        (
            "staging",
            {"marketplace:observabilityRegion": "ams3"},
            "config 'marketplace:observabilityRegion': 'ams3' is not one of the stack's regions (sfo3, nyc3, fra1, blr1, sgp1)",
        ),
        (
            "production",
            {"marketplace:logStore": '{"nodeCount": 2}'},
            "config 'marketplace:logStore.nodeCount': must be one of 1, 3, 6, 9, 15 (the node counts OpenSearch is "
            "offered with), got 2",
        ),
        (
            "production",
            {"marketplace:logStore": '{"nodeCount": 3, "size": "db-s-1vcpu-2gb"}'},
            "config 'marketplace:logStore.size': 'db-s-1vcpu-2gb' is not offered with 3 node(s); offered: db-s-2vcpu-4gb, "
            "gd-2vcpu-8gb, m3-2vcpu-16gb, db-s-4vcpu-8gb, gd-4vcpu-16gb, m3-4vcpu-32gb, m3-8vcpu-64gb",
        ),
        (
            "staging",
            {"marketplace:logStore": '{"retentionDays": 0}'},
            "config 'marketplace:logStore.retentionDays': must be between 1 and 365, got 0",
        ),
        (
            "dev",
            {"marketplace:logStore": '{"enabled": "yes"}'},
            "config 'marketplace:logStore.enabled': must be true or false, got 'yes'",
        ),
        (
            "production",
            {"marketplace:logStore": '{"operatorNetworks": ["0.0.0.0/0"]}'},
            "config 'marketplace:logStore.operatorNetworks': 0.0.0.0/0 admits every address: that opens production's "
            "log store to the whole internet; production must list its networks",
        ),
        (
            "production",
            {"marketplace:logStore": '{"operatorNetworks": ["0.0.0.0/1", "128.0.0.0/1"]}'},
            "config 'marketplace:logStore.operatorNetworks': 0.0.0.0/1, 128.0.0.0/1 together admit 100% of all IPv4 "
            "addresses (an allow-list may admit less than 0.3906%, a /8's worth): that opens production's log store to "
            "the whole internet; production must list its networks",
        ),
        (
            "staging",
            {"marketplace:logStore": '{"operatorNetworks": ["2001:db8::/32"]}'},
            "config 'marketplace:logStore.operatorNetworks': '2001:db8::/32' is not an IPv4 address or CIDR range",
        ),
        (
            "staging",
            {"marketplace:logStore": '{"operatorNetworks": [24]}'},
            "config 'marketplace:logStore.operatorNetworks': must be a list of IPv4 addresses or CIDR ranges, got 24",
        ),
    ],
    ids=[
        "logShipping",
        "hub outside",
        "node count",
        "size for count",
        "retention",
        "enabled type",
        "open",
        "open in halves",
        "ipv6",
        "type",
    ],
)
def test_bad_monitoring_settings_are_refused(stack: str, extra: dict[str, str], message: str) -> None:
    assert refusal(stack, extra) == f"stack '{stack}': {message}"


def test_a_region_without_managed_opensearch_cannot_hold_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every region the program knows offers OpenSearch today (data/opensearch.yaml); the day
    # one stops, a stack whose hub is there is refused before anything is declared.
    options = {**opensearch_options(), "regions": [r for r in opensearch_options()["regions"] if r != "fra1"]}
    monkeypatch.setattr(monitoring_settings, "opensearch_options", lambda: options)
    assert refusal("staging", {"marketplace:observabilityRegion": "fra1"}) == (
        "stack 'staging': config 'marketplace:observabilityRegion': DigitalOcean offers no Managed OpenSearch in 'fra1': "
        "pick another region for the log store"
    )
