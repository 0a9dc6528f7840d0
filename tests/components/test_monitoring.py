"""Monitoring and log shipping: on where the stack wants them, scraping what runs there."""

from __future__ import annotations

import pytest

from components.catalog import app_labels
from components.monitoring import (
    FLUENT_BIT_REPO,
    FLUENT_BIT_VERSION,
    PROMETHEUS_STACK_REPO,
    PROMETHEUS_STACK_VERSION,
    fluent_bit_values,
)
from components.namespaces import CATALOG_NAMESPACE, GATEWAY_NAMESPACE, MONITORING_NAMESPACE, PROXY_POD_LABELS
from components.settings import parse_settings
from components.settings.monitoring import LogShipping
from offline.engine import Plan, PlannedResource, SecretValue, reveal
from offline.stack_config import load_stack_config, stand_in
from tests.conftest import plan_of
from tests.k8s_objects import metadata, objects, on_cluster, one, regions_of, spec

LOGS = {"marketplace:logShipping": {"host": "logs.example.com", "port": 9243, "index": "catalog-logs"}}


def releases(plan: Plan, region: str) -> dict[str, PlannedResource]:
    return {r.inputs["name"]: r for r in on_cluster(plan, region) if r.type == "kubernetes:helm.sh/v3:Release"}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_staging_and_production_monitor_every_region(stack: str) -> None:
    plan = plan_of(stack)
    assert len(plan.of_type("marketplace:index:Monitoring")) == len(regions_of(plan)) == 5
    for region in regions_of(plan):
        prometheus = releases(plan, region)["kube-prometheus-stack"].inputs
        assert (prometheus["repositoryOpts"]["repo"], prometheus["version"]) == (
            PROMETHEUS_STACK_REPO,
            PROMETHEUS_STACK_VERSION,
        )
        assert prometheus["namespace"] == MONITORING_NAMESPACE
        # DOKS hides etcd, the scheduler and the controller manager: no scrape, no rule.
        values = prometheus["values"]
        for component in ("kubeEtcd", "kubeScheduler", "kubeControllerManager"):
            assert values[component] == {"enabled": False}, component
        rules = values["defaultRules"]["rules"]
        assert not any(rules[r] for r in ("etcd", "kubeSchedulerAlerting", "kubeSchedulerRecording", "kubeControllerManager"))
        prometheus_spec = prometheus["values"]["prometheus"]["prometheusSpec"]
        assert prometheus_spec["serviceMonitorSelectorNilUsesHelmValues"] is False
        assert prometheus_spec["podMonitorSelectorNilUsesHelmValues"] is False
        assert prometheus_spec["externalLabels"] == {"region": region, "stack": stack}


@pytest.mark.parametrize("stack", ["dev", "dev-alice"])
def test_dev_kinds_run_without_monitoring_by_default(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.of_type("marketplace:index:Monitoring") == []
    assert releases(plan, "nyc3").keys() == {"envoy-gateway", "metrics-server"}
    assert objects(plan, "nyc3", "ServiceMonitor") == []


def test_a_dev_stack_may_turn_monitoring_on() -> None:
    plan = plan_of("dev", overrides={"marketplace:monitoring": True})
    assert "kube-prometheus-stack" in releases(plan, "nyc3")
    assert len(objects(plan, "nyc3", "ServiceMonitor")) == 2


def test_catalog_workloads_and_envoy_proxies_are_scraped() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        prometheus = releases(plan, region)["kube-prometheus-stack"]
        for role in ("web", "api"):
            monitor = one(plan, region, "ServiceMonitor", f"catalog-{role}")
            assert metadata(monitor)["namespace"] == CATALOG_NAMESPACE
            assert spec(monitor)["selector"] == {"matchLabels": app_labels(role)}
            assert spec(monitor)["endpoints"][0]["port"] == "metrics"
            # Its kind exists only once the chart's CRDs do.
            assert prometheus.urn in monitor.dependencies
        proxies = one(plan, region, "PodMonitor", "envoy-proxies")
        assert metadata(proxies)["namespace"] == GATEWAY_NAMESPACE
        assert spec(proxies)["selector"] == {"matchLabels": PROXY_POD_LABELS}
        assert spec(proxies)["podMetricsEndpoints"] == [{"port": "metrics", "path": "/stats/prometheus", "interval": "30s"}]


def test_grafana_generates_its_password_unless_the_stack_sets_one() -> None:
    values = releases(plan_of("production"), "fra1")["kube-prometheus-stack"].inputs["values"]
    assert values["grafana"] == {}
    key = "marketplace:grafanaAdminPassword"
    plan = plan_of("staging", overrides={key: {"secure": "v1:abc"}})
    grafana = releases(plan, "sfo3")["kube-prometheus-stack"].inputs["values"]["grafana"]["admin"]
    secret = one(plan, "sfo3", "Secret", grafana["existingSecret"])
    assert metadata(secret)["namespace"] == MONITORING_NAMESPACE
    assert isinstance(secret.inputs["stringData"], SecretValue)
    assert reveal(secret.inputs["stringData"])[grafana["passwordKey"]] == stand_in(key)
    assert stand_in(key) not in str(grafana)


def test_a_plain_text_grafana_password_is_refused() -> None:
    from tests.conftest import plan_error

    message = plan_error("staging", overrides={"marketplace:grafanaAdminPassword": "hunter2"})
    assert message == (
        "stack 'staging': config 'marketplace:grafanaAdminPassword': is a secret but is stored in "
        "plain text: "
        "set it with pulumi config set --secret marketplace:grafanaAdminPassword -s staging"
    )


def test_logs_are_shipped_only_where_an_endpoint_is_configured() -> None:
    assert "fluent-bit" not in releases(plan_of("production"), "nyc3")
    plan = plan_of("dev", overrides=LOGS)
    # Log shipping alone brings the component, without Prometheus.
    assert releases(plan, "nyc3").keys() == {"envoy-gateway", "metrics-server", "fluent-bit"}
    fluent_bit = releases(plan, "nyc3")["fluent-bit"].inputs
    assert (fluent_bit["repositoryOpts"]["repo"], fluent_bit["version"]) == (
        FLUENT_BIT_REPO,
        FLUENT_BIT_VERSION,
    )
    assert fluent_bit["namespace"] == "logging"
    outputs = fluent_bit["values"]["config"]["outputs"]
    assert "    Host logs.example.com\n" in outputs
    assert "    Port 9243\n" in outputs
    assert "    Index catalog-logs\n" in outputs
    assert "    tls On\n" in outputs
    assert "    Add region nyc3\n" in fluent_bit["values"]["config"]["filters"]


def test_no_value_writes_lines_of_its_own_into_fluent_bits_configuration() -> None:
    # Settings refuse such a host (tests/test_bad_stacks.py); the writer refuses it too, so a
    # value that slipped past them could still not add an [OUTPUT] of its own.
    config = load_stack_config("dev")
    settings = parse_settings("dev", config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "dop_v1_test"})
    smuggled = LogShipping(host="logs.example.com\n[OUTPUT]\n    Name http", port=9200, index="catalog", tls=True)
    with pytest.raises(ValueError, match="is not one line of printable text"):
        fluent_bit_values(settings, "nyc3", smuggled)
