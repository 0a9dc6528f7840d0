"""DigitalOcean's alerts from outside the clusters: uptime checks of the public URL and its
health endpoint, monitor alerts on every node of the stack, to the stack's destinations."""

from __future__ import annotations

import pytest

from components.platform_alerts import CHECK_REGIONS, NODE_THRESHOLDS
from offline.engine import SecretValue, reveal
from offline.stack_config import stand_in
from tests.conftest import STACKS, plan_of
from tests.stack_settings import OBSERVED_DEV

CHECK = "digitalocean:index/uptimeCheck:UptimeCheck"
UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert"
MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert"


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_checks_its_url_and_health_endpoint_from_everywhere(stack: str) -> None:
    plan = plan_of(stack)
    url = plan.outputs["url"]
    checks = {c.name: c.inputs for c in plan.of_type(CHECK)}
    assert {name: inputs["target"] for name, inputs in checks.items()} == {
        "uptime-site": f"{url}/",
        "uptime-health": f"{url}/healthz",
    }
    for inputs in checks.values():
        assert (inputs["type"], inputs["regions"], inputs["enabled"]) == ("https", list(CHECK_REGIONS), True)
    alerts = {a.name: a.inputs for a in plan.of_type(UPTIME_ALERT)}
    ids = {c.name: c.id for c in plan.of_type(CHECK)}
    expected = {
        "uptime-site-down": ("down", None, None, "uptime-site"),
        "uptime-site-slow": ("latency", "greater_than", 2000, "uptime-site"),
        "uptime-site-certificate": ("ssl_expiry", "less_than", 14, "uptime-site"),
        "uptime-health-down": ("down", None, None, "uptime-health"),
        "uptime-health-slow": ("latency", "greater_than", 2000, "uptime-health"),
    }
    assert alerts.keys() == expected.keys()
    for name, (type_, comparison, threshold, check) in expected.items():
        alert = alerts[name]
        assert (alert["type"], alert.get("comparison"), alert.get("threshold"), alert["checkId"]) == (
            type_, comparison, threshold, ids[check],
        )  # fmt: skip
        assert alert["notifications"] == [{"emails": ["alerts@example.com"], "slacks": []}]


@pytest.mark.parametrize("stack", ["production", "dev-alice"])
def test_every_node_of_the_stack_is_watched_by_its_tag(stack: str) -> None:
    plan = plan_of(stack)
    alerts = {a.name: a.inputs for a in plan.of_type(MONITOR_ALERT)}
    assert alerts.keys() == {f"node-alerts-{metric}" for metric, _, _ in NODE_THRESHOLDS}
    clusters = plan.of_type("digitalocean:index/kubernetesCluster:KubernetesCluster")
    workers = plan.of_type("digitalocean:index/kubernetesNodePool:KubernetesNodePool")
    assert clusters and len(workers) == len(clusters)
    for metric, type_, threshold in NODE_THRESHOLDS:
        alert = alerts[f"node-alerts-{metric}"]
        assert (alert["type"], alert["compare"], alert["value"], alert["window"]) == (type_, "GreaterThan", threshold, "10m")
        assert alert["alerts"] == {"emails": ["alerts@example.com"], "slacks": []}
        [tag] = alert["tags"]
        # Every node pool carries the tag, so every node (also one added later) is covered.
        assert all(tag in cluster.inputs["nodePool"]["tags"] for cluster in clusters), tag
        assert all(tag in pool.inputs["tags"] for pool in workers), tag
    assert all(other not in str(alerts) for other in ("marketplace-staging", "marketplace-dev-bob"))


def test_a_slack_webhook_reaches_digitaloceans_alerts_too_and_stays_secret() -> None:
    plan = plan_of("dev", overrides=OBSERVED_DEV)
    url = stand_in("marketplace:alertWebhookUrl")
    alerts = [*plan.of_type(UPTIME_ALERT), *plan.of_type(MONITOR_ALERT)]
    # Five uptime alerts (down and slow for both checks, the certificate for the site) and one per node metric.
    assert len(alerts) == 5 + len(NODE_THRESHOLDS)
    for alert in alerts:
        notifications = alert.inputs["notifications"][0] if "notifications" in alert.inputs else alert.inputs["alerts"]
        assert isinstance(notifications["slacks"][0]["url"], SecretValue)
        assert reveal(notifications)["slacks"] == [{"channel": "#catalog-alerts", "url": url}]
        assert reveal(notifications)["emails"] == ["oncall@example.com"]
