"""Observability: a stack that runs workloads tells someone when they fail, and production's
log store cannot be deleted by a deploy nor opened to the whole internet.

Alerts leave a stack two ways: each cluster's Alertmanager (rules evaluated in the cluster)
and DigitalOcean's uptime checks and monitor alerts (from outside). Both must reach a
destination. kube-prometheus-stack's own Alertmanager configuration routes every alert to a
receiver named "null", so a release that does not bring its own configuration alerts no one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

import yaml
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.common import UNKNOWN, Report, elements, kind_of, open_to_everyone, peek
from policy.workloads import HELM_RELEASE, WORKLOADS, cluster_of

DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert"
MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert"
SECRET = "kubernetes:core/v1:Secret"
PROMETHEUS_STACK = "kube-prometheus-stack"
ALERTMANAGER_KEY = "alertmanager.yaml"


def _notifies(destinations: Any) -> bool:
    return destinations is UNKNOWN or bool(elements(peek(destinations, "emails")) or elements(peek(destinations, "slacks")))


def _alertmanager_config(release: PolicyResource, resources: list[PolicyResource]) -> Any:
    """The configuration a kube-prometheus-stack release's Alertmanager reads: the Secret it
    names in the release's namespace and cluster (UNKNOWN until deploy, None if missing)."""
    spec = peek(release.props, "values", "alertmanager", "alertmanagerSpec")
    name, namespace = peek(spec, "configSecret"), peek(release.props, "namespace")
    for secret in resources:
        if (
            secret.resource_type == SECRET
            and cluster_of(secret) == cluster_of(release)
            and peek(secret.props, "metadata", "name") in (name, UNKNOWN)
            and peek(secret.props, "metadata", "namespace") in (namespace, UNKNOWN)
        ):
            text = peek(secret.props, "stringData", ALERTMANAGER_KEY)
            if text is None:
                encoded = peek(secret.props, "data", ALERTMANAGER_KEY)
                try:
                    text = base64.b64decode(str(encoded)).decode() if encoded not in (None, UNKNOWN) else encoded
                except (binascii.Error, UnicodeDecodeError):
                    return None
            if text is UNKNOWN:
                return UNKNOWN
            try:
                return yaml.safe_load(str(text)) if text is not None else None
            except yaml.YAMLError:
                return None
    return None


def _alertmanager_problems(release: PolicyResource, resources: list[PolicyResource]) -> Iterator[str]:
    alertmanager = peek(release.props, "values", "alertmanager")
    if peek(alertmanager, "enabled") is False:
        yield "has no Alertmanager (values.alertmanager.enabled false): the cluster's alerts go nowhere"
        return
    if peek(alertmanager, "alertmanagerSpec", "useExistingSecret") is not True:
        yield (
            "uses the chart's Alertmanager configuration, which routes every alert to the 'null' receiver: set "
            "alertmanagerSpec.useExistingSecret and configSecret to a Secret with routes"
        )
        return
    config = _alertmanager_config(release, resources)
    if config is UNKNOWN:
        return
    if not isinstance(config, dict):
        yield "names an Alertmanager configuration Secret this cluster does not hold (or that is not YAML)"
        return
    receivers = {peek(r, "name"): r for r in elements(config.get("receivers"))}
    root = receivers.get(peek(config, "route", "receiver"))
    if not any(key.endswith("_configs") and elements(value) for key, value in (root or {}).items()):
        yield "routes alerts by default to a receiver with no email, webhook or other destination"


def _alerts_routed(args: StackValidationArgs, report: Report) -> None:
    resources = list(args.resources)
    workloads = [r for r in resources if r.resource_type in WORKLOADS]
    if not workloads:
        return
    for type_, field, what in (
        (UPTIME_ALERT, "notifications", "uptime alerts (digitalocean.UptimeAlert)"),
        (MONITOR_ALERT, "alerts", "node monitor alerts (digitalocean.MonitorAlert)"),
    ):
        alerts = [r for r in resources if r.resource_type == type_]
        routed = [a for a in alerts if any(_notifies(n) for n in (elements(peek(a.props, field)) or [peek(a.props, field)]))]
        if not routed:
            report(
                f"this stack runs workloads ({workloads[0].name} and {len(workloads) - 1} more) but has no {what} that "
                "notify an email address or Slack: a failure outside the clusters would reach no one",
                workloads[0].urn,
            )
    for release in resources:
        if release.resource_type == HELM_RELEASE and peek(release.props, "chart") == PROMETHEUS_STACK:
            for problem in _alertmanager_problems(release, resources):
                report(f"Helm release {release.name} {problem}", release.urn)


def _production_log_store_protected(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == DATABASE and kind_of(args.urn) == "production" and not args.opts.protect:
        report(
            f"production's log store {args.name} is not protected (ResourceOptions(protect=True)): DigitalOcean "
            "databases have no deletion protection of their own, and `pulumi destroy` or a replacing change "
            "(name, engine, network) would delete every log"
        )


def _production_log_store_firewall(args: ResourceValidationArgs, report: Report) -> None:
    """The store's firewall admits the stack's clusters (k8s rules) and operators' networks
    (ip_addr rules): the networks get the control-plane allow-list's breadth rule, which the
    stack settings apply to marketplace:logStore.operatorNetworks."""
    if args.resource_type != DATABASE_FIREWALL or kind_of(args.urn) != "production":
        return
    rules = elements(peek(args.props, "rules"))
    addresses = [peek(rule, "value") for rule in rules if peek(rule, "type") == "ip_addr"]
    for problem in open_to_everyone([address for address in addresses if address is not None]):
        report(f"production's log store firewall {args.name}: ip_addr entry {problem}; production must list its networks")


alerts_routed = StackValidationPolicy(
    name="observability-alerts-routed",
    description="A stack that runs workloads routes its alerts somewhere: each Alertmanager and DigitalOcean's checks.",
    validate=_alerts_routed,
)

production_log_store_protected = ResourceValidationPolicy(
    name="observability-production-log-store-protected",
    description="Production's log store (a DigitalOcean database) is protected from deletion.",
    validate=_production_log_store_protected,
)

production_log_store_firewall = ResourceValidationPolicy(
    name="observability-production-log-store-firewall",
    description="Production's log store firewall admits listed networks, none wide enough to be the whole internet.",
    validate=_production_log_store_firewall,
)

POLICIES = [alerts_routed, production_log_store_protected, production_log_store_firewall]
