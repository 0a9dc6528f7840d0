"""What each cluster alerts on and where the alerts go, as data: the Prometheus rule groups
(data/rules: hand-written rules, and the catalog's SLOs rendered into recording rules and
multi-window, multi-burn-rate alerts) and the Alertmanager configuration (routes and
receivers from the stack's alerting settings).

Pure functions: the Monitoring component declares what they return, and the tests hand the
same data to `promtool` and `amtool`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.cluster import POOL_LABEL
from components.settings.alerting import AlertingSettings

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "rules"
HAND_WRITTEN_RULES = RULES_DIR / "catalog.rules.yaml"
SLO_FILE = RULES_DIR / "slos.yaml"

# The recording rules' windows, shortest first: every window a burn-rate pair uses.
_WINDOW_ORDER = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def slo_error_record(slo: str, window: str) -> str:
    """The recorded error ratio of an SLO over a window (what the dashboards read too)."""
    return f"app:catalog_{slo}_errors:ratio_rate{window}"


def _by_app(selector: str, window: str) -> str:
    return f"sum by (app) (rate({selector}[{window}]))"


def _error_ratio(slo: dict[str, Any], window: str) -> str:
    """bad / total, or 1 - good / total. An app with traffic but no series of the other kind
    (Envoy may export a response class only once it happened) counts as 0 of that kind, not
    as no data."""
    total = _by_app(slo["total"], window)
    if "bad" in slo:
        return f"({_by_app(slo['bad'], window)} or {total} * 0) / {total}"
    return f"1 - (({_by_app(slo['good'], window)} or {total} * 0) / {total})"


def slo_rule_groups() -> list[dict[str, Any]]:
    """Per SLO: the error ratio recorded over every window, and one alert per burn rate."""
    spec = _load(SLO_FILE)
    windows = sorted({w for rate in spec["burn_rates"] for w in (rate["long"], rate["short"])}, key=_WINDOW_ORDER.index)
    groups = []
    for slo in spec["slos"]:
        name, budget = slo["name"], round(1 - slo["objective"], 6)
        records = [{"record": slo_error_record(name, window), "expr": _error_ratio(slo, window)} for window in windows]
        alerts = []
        for rate in spec["burn_rates"]:
            threshold = f"({rate['factor']} * {budget})"
            alerts.append(
                {
                    "alert": "CatalogErrorBudgetBurn",
                    "expr": (
                        f"{slo_error_record(name, rate['long'])} > {threshold} "
                        f"and {slo_error_record(name, rate['short'])} > {threshold}"
                    ),
                    "for": rate["for"],
                    "labels": {
                        "severity": rate["severity"],
                        "slo": name,
                        "long_window": rate["long"],
                        "short_window": rate["short"],
                    },
                    "annotations": {
                        "summary": (
                            f"{{{{ $labels.app }}}} in {{{{ $labels.region }}}} burns its {name} error budget "
                            f"{rate['factor']}x too fast"
                        ),
                        "description": (
                            f"SLO: {slo['description']} over {spec['period']}. Errors were "
                            f"{{{{ $value | humanizePercentage }}}} of requests over the last {rate['long']} "
                            f"and above {rate['factor']}x the budget over the last {rate['short']} too, on cluster "
                            "{{ $labels.cluster }}."
                        ),
                        "logs": 'region:"{{ $labels.region }}" and kubernetes.labels.app_kubernetes_io/name:"{{ $labels.app }}"',
                        "runbook": f"docs/observability.md#error-budget-burn-{name}",
                    },
                }
            )
        groups.append({"name": f"catalog-slo-{name}", "interval": "1m", "rules": [*records, *alerts]})
    return groups


def node_label_metric(label: str) -> str:
    """kube-state-metrics' name for a node label it is allowed to export (kube_node_labels):
    "marketplace/pool" -> "label_marketplace_pool"."""
    return "label_" + re.sub(r"[^A-Za-z0-9_]", "_", label)


def node_pool_group(pools: Mapping[str, int]) -> dict[str, Any]:
    """The cluster autoscaler at a pool's ceiling: DOKS runs the autoscaler itself and exports
    no metric of it, so each autoscaled pool's node count (kube-state-metrics, by the pool
    label every node carries) is compared with its maximum. `pools`: label value -> maximum."""
    rules = []
    for pool, maximum in sorted(pools.items()):
        count = f'count(kube_node_labels{{{node_label_metric(POOL_LABEL)}="{pool}"}})'
        rules.append(
            {
                "alert": "NodePoolAtMaximum",
                "expr": f"({count} >= {int(maximum)}) * on () group_left (region, cluster) marketplace:cluster_info",
                "for": "30m",
                "labels": {"severity": "warning", "pool": pool},
                "annotations": {
                    "summary": f"The {pool} node pool of {{{{ $labels.cluster }}}} has run at its maximum for 30 minutes",
                    "description": (
                        f"{{{{ $value }}}} nodes of at most {int(maximum)}: the cluster autoscaler cannot add more. "
                        "Raise the pool's maximum (marketplace:nodePool.maxNodes for the workers), or find what asks "
                        "for the capacity."
                    ),
                    "runbook": "docs/observability.md#autoscaler-at-maximum",
                },
            }
        )
    return {"name": "catalog-capacity", "rules": rules}


def cluster_rule_groups(*, region: str, cluster: str, pools: Mapping[str, int]) -> list[dict[str, Any]]:
    """Every rule group of one cluster, each recording rule labelled with where it runs.
    `pools`: the cluster's autoscaled node pools, pool label value -> maximum nodes."""
    groups = [*copy.deepcopy(_load(HAND_WRITTEN_RULES)["groups"]), *slo_rule_groups()]
    if pools:
        groups.append(node_pool_group(pools))
    for group in groups:
        for rule in group["rules"]:
            if "record" in rule:
                rule["labels"] = {**rule.get("labels", {}), "region": region, "cluster": cluster}
    return groups


# --- Alertmanager -------------------------------------------------------------------------

NULL_RECEIVER = "null"
EMAIL_RECEIVER = "email"
PAGE_RECEIVER = "page"
# Always firing by design (kube-prometheus's dead man's switch) or only there to inhibit.
SILENT_ALERTS = ("Watchdog", "InfoInhibitor")


def alertmanager_config(alerting: AlertingSettings, webhook_url: str | None, smtp_password: str | None) -> dict[str, Any]:
    """Alertmanager's configuration: warnings by email; critical alerts by email and, when the
    stack has one, the webhook (Slack when alerting.slackChannel is set). The secrets are
    passed in plain: the caller keeps the result inside a secret Output."""
    smtp = alerting.smtp
    global_: dict[str, Any] = {
        "resolve_timeout": "5m",
        "smtp_smarthost": smtp.smarthost,
        "smtp_from": smtp.sender,
        "smtp_require_tls": smtp.require_tls,
    }
    if smtp.username is not None:
        global_["smtp_auth_username"] = smtp.username
    if smtp_password is not None:
        global_["smtp_auth_password"] = smtp_password
    email = {"to": alerting.email, "send_resolved": True}
    page: dict[str, Any] = {"name": PAGE_RECEIVER, "email_configs": [email]}
    if webhook_url is not None:
        # url_file would keep the URL out of the configuration, but amtool 0.25 (Debian 12,
        # what the tests check with) rejects it; the whole configuration is a Secret instead.
        if alerting.slack_channel is not None:
            page["slack_configs"] = [{"api_url": webhook_url, "channel": alerting.slack_channel, "send_resolved": True}]
        else:
            page["webhook_configs"] = [{"url": webhook_url, "send_resolved": True}]
    return {
        "global": global_,
        "route": {
            "receiver": EMAIL_RECEIVER,
            "group_by": ["alertname", "region", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                *({"receiver": NULL_RECEIVER, "matchers": [f'alertname = "{name}"']} for name in SILENT_ALERTS),
                {"receiver": PAGE_RECEIVER, "matchers": ['severity = "critical"'], "repeat_interval": "1h"},
            ],
        },
        "receivers": [{"name": NULL_RECEIVER}, {"name": EMAIL_RECEIVER, "email_configs": [email]}, page],
        "inhibit_rules": [
            {
                # A page makes the same alert's warning about the same place redundant.
                "source_matchers": ['severity = "critical"'],
                "target_matchers": ['severity = "warning"'],
                "equal": ["alertname", "region", "cluster", "namespace", "app"],
            }
        ],
    }
