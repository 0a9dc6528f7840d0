"""Alerts DigitalOcean raises from outside the clusters, to the same destinations as each
cluster's Alertmanager: uptime checks of the public URL and its health endpoint (down,
slow, certificate about to expire; the scheduled `ops smoke` stays the deep check), and
monitor alerts on the CPU, memory and disk of every node of the stack, selected by the tag
every node pool carries.

DigitalOcean notifies only email addresses verified on the account and Slack webhooks
(digitalocean/openapi uptime notification.yml, monitoring alerts.yml): a webhook that is not
Slack's reaches Alertmanager's alerts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pulumi
import pulumi_digitalocean as digitalocean

from components.settings.edge import HEALTH_PATH
from components.settings.stack import StackSettings

# Every region DigitalOcean probes from (openapi uptime check.yml regions enum).
CHECK_REGIONS = ("us_east", "us_west", "eu_west", "se_asia")
# Days before the public certificate expires that the check's alert fires.
CERTIFICATE_DAYS = 14

# What each node metric alerts above, in percent, over the window (openapi
# alert_policy_request.yml: windows 5m, 10m, 30m, 1h).
NODE_THRESHOLDS = (
    ("cpu", "v1/insights/droplet/cpu", 85.0),
    ("memory", "v1/insights/droplet/memory_utilization_percent", 90.0),
    ("disk", "v1/insights/droplet/disk_utilization_percent", 85.0),
)
NODE_WINDOW = "10m"

_SlackArgs = TypeVar("_SlackArgs", digitalocean.UptimeAlertNotificationSlackArgs, digitalocean.MonitorAlertAlertsSlackArgs)


def node_tag(settings: StackSettings) -> str:
    """The tag on every node of the stack's clusters (components/cluster.py puts the stack's
    tags on each node pool): new nodes are covered the moment they join. Of the stack's tags
    (project, project-stack, project-kind-kind) the one no other stack carries."""
    _, stack_tag, _ = settings.tags
    return stack_tag


def _slack(settings: StackSettings, channel_type: type[_SlackArgs]) -> list[_SlackArgs]:
    """The stack's Slack channel, when its alert webhook is Slack's, as either API's argument
    type; the URL stays a secret."""
    alerting = settings.alerting
    if not (alerting.slack_channel and alerting.webhook_url):
        return []
    return [channel_type(channel=alerting.slack_channel, url=alerting.webhook_url.output())]


class UptimeChecks(pulumi.ComponentResource):
    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:UptimeChecks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alerting = settings.alerting
        notification = digitalocean.UptimeAlertNotificationArgs(
            emails=[alerting.email], slacks=_slack(settings, digitalocean.UptimeAlertNotificationSlackArgs)
        )
        targets = {"site": f"https://{settings.hostname}/", "health": f"https://{settings.hostname}{HEALTH_PATH}"}
        self.checks: dict[str, digitalocean.UptimeCheck] = {}
        self.alerts: list[digitalocean.UptimeAlert] = []
        for key, target in targets.items():
            check = self.checks[key] = digitalocean.UptimeCheck(
                f"{name}-{key}",
                name=f"{settings.name_prefix}-{key}",
                target=target,
                type="https",
                regions=list(CHECK_REGIONS),
                enabled=True,
                opts=child,
            )
            # (what, type, comparison, threshold, period): latency in milliseconds, certificate
            # in days (pydo uptime create_alert); "down" fires when any probe region fails.
            alerts: list[tuple[str, str, str | None, int | None, str | None]] = [
                ("down", "down", None, None, "2m"),
                ("slow", "latency", "greater_than", alerting.latency_threshold_ms, "5m"),
            ]
            if key == "site":
                alerts.append(("certificate", "ssl_expiry", "less_than", CERTIFICATE_DAYS, None))
            for what, type_, comparison, threshold, period in alerts:
                self.alerts.append(
                    digitalocean.UptimeAlert(
                        f"{name}-{key}-{what}",
                        check_id=check.id,
                        name=f"{settings.name_prefix} {key} {what}",
                        type=type_,
                        comparison=comparison,
                        threshold=threshold,
                        period=period,
                        notifications=[notification],
                        opts=child,
                    )
                )
        self.register_outputs({"checks": {key: check.id for key, check in self.checks.items()}})


class NodeAlerts(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        clusters: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`clusters`: the tag exists once they do."""
        super().__init__("marketplace:index:NodeAlerts", name, None, opts)
        alerting = settings.alerting
        recipients = digitalocean.MonitorAlertAlertsArgs(
            emails=[alerting.email], slacks=_slack(settings, digitalocean.MonitorAlertAlertsSlackArgs)
        )
        self.alerts = [
            digitalocean.MonitorAlert(
                f"{name}-{metric}",
                description=f"{settings.name_prefix}: a node's {metric} above {threshold:g}% for {NODE_WINDOW}",
                type=type_,
                compare="GreaterThan",
                value=threshold,
                window=NODE_WINDOW,
                tags=[node_tag(settings)],
                alerts=recipients,
                enabled=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(clusters)),
            )
            for metric, type_, threshold in NODE_THRESHOLDS
        ]
        self.register_outputs({"tag": node_tag(settings)})
