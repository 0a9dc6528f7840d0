"""policy/observability.py on hand-built resources: alerts routed somewhere, production's
log store protected and closed to all but listed networks."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
import yaml

from components.alerting import alertmanager_config
from components.settings import ConfigError
from policy import observability
from tests import policy_fixtures as fx
from tests.policy.policyargs import cluster_provider, policy_resource
from tests.policy.policycases import ALLOW_LISTS, check, stack_check
from tests.stack_settings import settings_of

CONFIG = alertmanager_config(settings_of("production").alerting, None, None)
UPTIME = {"checkId": "c1", "type": "down", "notifications": [{"emails": ["alerts@example.com"], "slacks": []}]}
NODES = {"type": "v1/insights/droplet/cpu", "alerts": {"emails": ["alerts@example.com"], "slacks": []}}


def release(**alertmanager_spec: Any) -> dict[str, Any]:
    spec = {"useExistingSecret": True, "configSecret": "alertmanager-marketplace", **alertmanager_spec}
    return {"chart": "kube-prometheus-stack", "namespace": "monitoring", "values": {"alertmanager": {"alertmanagerSpec": spec}}}


def secret(config: Any = CONFIG, *, encoded: bool = False, name: str = "alertmanager-marketplace") -> dict[str, Any]:
    text = yaml.safe_dump(config)
    data = (
        {"data": {"alertmanager.yaml": base64.b64encode(text.encode()).decode()}}
        if encoded
        else {"stringData": {"alertmanager.yaml": text}}
    )
    return {"metadata": {"name": name, "namespace": "monitoring"}, **data}


def stack(*, uptime: Any = UPTIME, nodes: Any = NODES, kps: Any = None, config: Any = None, workloads: bool = True) -> list[str]:
    provider = cluster_provider()
    resources = [
        policy_resource(observability.UPTIME_ALERT, uptime, name="uptime-site-down"),
        policy_resource(observability.MONITOR_ALERT, nodes, name="node-alerts-cpu"),
        policy_resource(observability.HELM_RELEASE, kps or release(), name="nyc3-monitoring-prometheus", provider=provider),
        policy_resource(observability.SECRET, config or secret(), name="nyc3-monitoring-alertmanager-config", provider=provider),
    ]
    if workloads:
        resources.append(policy_resource(fx.DEPLOYMENT, fx.deployment(), name="catalog-web", provider=provider))
    return stack_check(observability.alerts_routed, resources)


def test_a_stack_whose_alerts_reach_people_passes() -> None:
    assert stack() == []
    assert stack(config=secret(encoded=True)) == []


def test_a_stack_without_workloads_needs_no_routes() -> None:
    assert stack(uptime={"notifications": []}, nodes={"alerts": {}}, kps=release(useExistingSecret=False), workloads=False) == []


SILENT = copy.deepcopy(CONFIG)
SILENT["receivers"][1].pop("email_configs")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"uptime": {**UPTIME, "notifications": [{"emails": [], "slacks": []}]}},
            "has no uptime alerts (digitalocean.UptimeAlert) that notify",
        ),
        (
            {"nodes": {**NODES, "alerts": {"emails": [], "slacks": []}}},
            "has no node monitor alerts (digitalocean.MonitorAlert) that notify",
        ),
        (
            {"kps": release(useExistingSecret=False)},
            "Helm release nyc3-monitoring-prometheus uses the chart's Alertmanager configuration, which routes every alert to the 'null' receiver",
        ),
        (
            {"kps": {**release(), "values": {"alertmanager": {"enabled": False}}}},
            "has no Alertmanager (values.alertmanager.enabled false)",
        ),
        ({"config": secret(name="other")}, "names an Alertmanager configuration Secret this cluster does not hold"),
        ({"config": secret(SILENT)}, "routes alerts by default to a receiver with no email, webhook or other destination"),
    ],
    ids=["uptime silent", "nodes silent", "chart default", "no alertmanager", "missing secret", "silent receiver"],
)
def test_each_silent_path_is_refused(edit: dict[str, Any], message: str) -> None:
    [reported] = stack(**edit)
    assert message in reported


def test_production_log_store_must_be_protected() -> None:
    database = {"engine": "opensearch", "region": "nyc3", "size": "db-s-2vcpu-4gb", "nodeCount": 3}
    policy = observability.production_log_store_protected
    assert check(policy, observability.DATABASE, database, "production", protect=True) == []
    assert check(policy, observability.DATABASE, database, "staging", protect=False) == []
    [message] = check(policy, observability.DATABASE, database, "production", protect=False)
    assert message.startswith("production's log store subject is not protected (ResourceOptions(protect=True))")


def firewall(*networks: str) -> dict[str, Any]:
    clusters = [{"type": "k8s", "value": "cluster-id"}]
    return {"clusterId": "db-id", "rules": [*clusters, *({"type": "ip_addr", "value": n} for n in networks)]}


def test_production_log_store_admits_listed_networks_only() -> None:
    policy = observability.production_log_store_firewall
    assert check(policy, observability.DATABASE_FIREWALL, firewall("203.0.113.0/24"), "production") == []
    assert check(policy, observability.DATABASE_FIREWALL, firewall("0.0.0.0/0"), "staging") == []
    [message] = check(policy, observability.DATABASE_FIREWALL, firewall("0.0.0.0/1", "128.0.0.0/1"), "production")
    assert message.startswith(
        "production's log store firewall subject: ip_addr entry 0.0.0.0/1, 128.0.0.0/1 together admit 100% of all IPv4"
    )


@pytest.mark.parametrize("entries", ALLOW_LISTS, ids=[",".join(entries) for entries in ALLOW_LISTS])
def test_the_pack_refuses_exactly_the_operator_networks_the_settings_refuse(entries: list[str]) -> None:
    try:
        settings_of("production", {"marketplace:logStore": json.dumps({"operatorNetworks": entries})})
        settings_refuse = False
    except ConfigError:
        settings_refuse = True
    pack = check(observability.production_log_store_firewall, observability.DATABASE_FIREWALL, firewall(*entries))
    assert settings_refuse == bool(pack)
    assert settings_refuse == (entries not in ALLOW_LISTS[:3])
