"""Monitoring on each cluster: on where the stack wants it, scraping what runs there,
evaluating the program's rules, alerting through the stack's destinations, and (outside the
hub) reachable by the hub's Grafana only."""

from __future__ import annotations

import re

import pytest
import yaml

from components.alerting import alertmanager_config, cluster_rule_groups
from components.catalog_app import app_labels
from components.monitoring import (
    ALERTMANAGER_KEY,
    ALERTMANAGER_SECRET,
    PROMETHEUS_SERVER_LABELS,
    PROMETHEUS_STACK_REPO,
    PROMETHEUS_STACK_VERSION,
)
from components.namespaces import CATALOG_NAMESPACE, GATEWAY_NAMESPACE, MONITORING_NAMESPACE, PROXY_POD_LABELS
from components.network import cluster_network
from components.regions import REGIONS
from offline.engine import Plan, PlannedResource, SecretValue, reveal
from offline.stack_config import stand_in
from tests.conftest import plan_of
from tests.k8s_objects import NYC3_UPGRADING, metadata, objects, on_cluster, one, regions_of, spec
from tests.plandocs import settings_of
from tests.stack_settings import OBSERVED_DEV


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
        assert prometheus_spec["externalLabels"] == {"region": region, "cluster": region, "stack": stack}
        # The program's configuration, never the chart's default (which routes to "null").
        values = prometheus["values"]
        assert values["alertmanager"]["alertmanagerSpec"] == {"useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET}
        assert values["defaultRules"]["disabled"] == {"KubePodCrashLooping": True, "KubeHpaMaxedOut": True}


@pytest.mark.parametrize("stack", ["dev", "dev-alice"])
def test_dev_kinds_run_without_monitoring_by_default(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.of_type("marketplace:index:Monitoring") == []
    assert releases(plan, "nyc3").keys() == {"envoy-gateway", "metrics-server"}
    assert objects(plan, "nyc3", "ServiceMonitor") == []
    assert objects(plan, "nyc3", "PrometheusRule") == []


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
        [endpoint] = spec(proxies)["podMetricsEndpoints"]
        assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("metrics", "/stats/prometheus", "30s")
        # Catalog routes' series are labelled with their app at scrape time.
        [relabeling] = endpoint["metricRelabelings"]
        name = re.compile(relabeling["regex"])
        match = name.fullmatch("httproute/catalog/catalog-api/rule/0")
        assert match and match.group(1) == "catalog-api"
        assert not name.fullmatch("httproute/envoy-gateway-system/other/rule/0")
        assert (relabeling["sourceLabels"], relabeling["targetLabel"]) == (["envoy_cluster_name"], "app")


def test_grafana_runs_on_the_hub_and_generates_its_password_unless_the_stack_sets_one() -> None:
    plan = plan_of("production")
    assert releases(plan, "fra1")["kube-prometheus-stack"].inputs["values"]["grafana"] == {"enabled": False}
    grafana = releases(plan, "nyc3")["kube-prometheus-stack"].inputs["values"]["grafana"]
    assert grafana["enabled"] is True and "admin" not in grafana
    assert grafana["sidecar"]["datasources"] == {"defaultDatasourceEnabled": False}
    key = "marketplace:grafanaAdminPassword"
    plan = plan_of("staging", overrides={key: {"secure": "v1:abc"}})
    admin = releases(plan, "nyc3")["kube-prometheus-stack"].inputs["values"]["grafana"]["admin"]
    secret = one(plan, "nyc3", "Secret", admin["existingSecret"])
    assert metadata(secret)["namespace"] == MONITORING_NAMESPACE
    assert isinstance(secret.inputs["stringData"], SecretValue)
    assert reveal(secret.inputs["stringData"])[admin["passwordKey"]] == stand_in(key)
    assert stand_in(key) not in str(admin)
    # Only the hub has a Grafana to log in to.
    assert [s for s in objects(plan, "sfo3", "Secret") if "grafana" in s.name] == []


def test_a_plain_text_grafana_password_is_refused() -> None:
    from tests.conftest import plan_error

    message = plan_error("staging", overrides={"marketplace:grafanaAdminPassword": "hunter2"})
    assert message == (
        "stack 'staging': config 'marketplace:grafanaAdminPassword': is a secret but is stored in "
        "plain text: "
        "set it with pulumi config set --secret marketplace:grafanaAdminPassword -s staging"
    )


def alertmanager_secret(plan: Plan, region: str) -> PlannedResource:
    [secret] = [s for s in objects(plan, region, "Secret") if metadata(s)["name"] == ALERTMANAGER_SECRET]
    assert metadata(secret)["namespace"] == MONITORING_NAMESPACE
    return secret


def test_each_alertmanager_reads_the_programs_configuration() -> None:
    plan = plan_of("production")
    settings = settings_of("production")
    for region in regions_of(plan):
        secret = alertmanager_secret(plan, region)
        rendered = yaml.safe_load(reveal(secret.inputs["stringData"])[ALERTMANAGER_KEY])
        assert rendered == alertmanager_config(settings.alerting, None, None)
        assert rendered["receivers"][1]["email_configs"] == [{"to": "alerts@example.com", "send_resolved": True}]
        # The chart's release waits for it: Alertmanager starts with its routes.
        assert secret.urn in releases(plan, region)["kube-prometheus-stack"].dependencies


def test_a_webhook_makes_the_whole_configuration_secret() -> None:
    plan = plan_of("dev", overrides=OBSERVED_DEV)
    data = alertmanager_secret(plan, "nyc3").inputs["stringData"]
    assert isinstance(data, SecretValue)
    rendered = yaml.safe_load(reveal(data)[ALERTMANAGER_KEY])
    page = next(r for r in rendered["receivers"] if r["name"] == "page")
    url = stand_in("marketplace:alertWebhookUrl")
    assert page["slack_configs"] == [{"api_url": url, "channel": "#catalog-alerts", "send_resolved": True}]
    assert rendered["global"]["smtp_auth_password"] == stand_in("marketplace:alertSmtpPassword")


def test_every_cluster_evaluates_the_rules_labelled_with_where_it_runs() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        [rule] = objects(plan, region, "PrometheusRule")
        assert metadata(rule)["namespace"] == MONITORING_NAMESPACE
        groups = spec(rule)["groups"]
        # Both of production's pools autoscale: the system pool 2-3 nodes, the workers 3-10.
        assert groups == cluster_rule_groups(region=region, cluster=region, pools={"system": 3, "workers": 10})
        records = [r for g in groups for r in g["rules"] if "record" in r]
        assert records and all(r["labels"] == {"region": region, "cluster": region} for r in records)
        alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
        assert {"CatalogErrorBudgetBurn", "PodCrashLooping", "PodUnschedulable", "AutoscalerAtMaximum",
                "NodePoolAtMaximum", "OriginCertificateExpiresSoon"} <= alerts  # fmt: skip
        assert releases(plan, region)["kube-prometheus-stack"].urn in rule.dependencies


def test_prometheus_outside_the_hub_answers_the_hubs_networks_only() -> None:
    plan = plan_of("production")
    hub = REGIONS["nyc3"]
    # The hub's VPC and the pods of either generation the hub region may run.
    expected = [cluster_network(0, hub.slot).vpc, cluster_network(0, hub.slot, 0).pods, cluster_network(0, hub.slot, 1).pods]
    for region in set(regions_of(plan)) - {"nyc3"}:
        service = one(plan, region, "Service", "prometheus-internal")
        annotations = metadata(service)["annotations"]
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-network"] == "INTERNAL"
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-name"] == f"mkt-production-{region}-prometheus"
        assert spec(service)["type"] == "LoadBalancer"
        assert spec(service)["selector"] == PROMETHEUS_SERVER_LABELS
        assert spec(service)["loadBalancerSourceRanges"] == expected
    assert [s for s in objects(plan, "nyc3", "Service") if metadata(s)["name"] == "prometheus-internal"] == []


def test_each_cluster_generation_names_its_own_internal_load_balancer() -> None:
    """Named after the cluster generation, like every account-unique name of its things: a
    green cluster asking for blue's name would be handed blue's load balancer."""
    plan = plan_of("production", overrides=NYC3_UPGRADING)
    clusters = {
        c.name.removesuffix("-doks"): c.inputs["name"]
        for c in plan.of_type("digitalocean:index/kubernetesCluster:KubernetesCluster")
    }
    names = {
        service.name.removesuffix("-monitoring-prometheus-internal"): metadata(service)["annotations"][
            "service.beta.kubernetes.io/do-loadbalancer-name"
        ]
        for service in plan.of_type("kubernetes:core/v1:Service")
        if metadata(service)["name"] == "prometheus-internal"
    }
    # Every cluster but the hub's (nyc3's first generation): nyc3's green one among them.
    assert names.keys() == set(clusters) - {"nyc3"} and "nyc3-green" in names
    assert names == {cluster: f"{clusters[cluster]}-prometheus" for cluster in names}
    assert names["nyc3-green"] == "mkt-production-nyc3-green-prometheus"
