"""What the rules and the Alertmanager configuration are made of (promtool and amtool check
them in test_alerting_promtool.py)."""

from __future__ import annotations

import json
import re

import yaml

from components.alerting import SLO_FILE, alertmanager_config, cluster_rule_groups, slo_error_record
from offline.stack_config import ROOT
from tests.stack_settings import settings_of


def test_each_slo_is_recorded_over_every_window_its_burn_rates_use() -> None:
    spec = yaml.safe_load(SLO_FILE.read_text())
    groups = {g["name"]: g for g in cluster_rule_groups(region="fra1", cluster="fra1-green", pools={"workers": 4})}
    for slo in spec["slos"]:
        rules = groups[f"catalog-slo-{slo['name']}"]["rules"]
        recorded = {r["record"] for r in rules if "record" in r}
        windows = {w for rate in spec["burn_rates"] for w in (rate["long"], rate["short"])}
        assert recorded == {slo_error_record(slo["name"], w) for w in windows}
        alerts = [r for r in rules if "alert" in r]
        budget = round(1 - slo["objective"], 6)
        assert [(a["labels"]["severity"], a["labels"]["long_window"], a["for"]) for a in alerts] == [
            (rate["severity"], rate["long"], rate["for"]) for rate in spec["burn_rates"]
        ]
        for alert, rate in zip(alerts, spec["burn_rates"], strict=True):
            threshold = f"({rate['factor']} * {budget})"
            assert alert["expr"] == (
                f"{slo_error_record(slo['name'], rate['long'])} > {threshold} and "
                f"{slo_error_record(slo['name'], rate['short'])} > {threshold}"
            )
    # Every recorded series carries the cluster's place; the node pool's ceiling is its own.
    records = [r for g in groups.values() for r in g["rules"] if "record" in r]
    assert {json.dumps(r["labels"]) for r in records} == {json.dumps({"region": "fra1", "cluster": "fra1-green"})}
    [pool] = groups["catalog-capacity"]["rules"]
    assert pool["expr"].startswith('(count(kube_node_labels{label_marketplace_pool="workers"}) >= 4)')
    assert pool["labels"] == {"severity": "warning", "pool": "workers"}
    # A pool of fixed size has no autoscaler to watch.
    assert "catalog-capacity" not in {g["name"] for g in cluster_rule_groups(region="fra1", cluster="fra1", pools={})}


def receivers(config: dict) -> dict[str, dict]:
    return {r["name"]: r for r in config["receivers"]}


def test_warnings_go_by_email_pages_also_to_the_webhook() -> None:
    alerting = settings_of("production").alerting
    plain = alertmanager_config(alerting, None, None)
    assert receivers(plain)["page"] == {"name": "page", "email_configs": [{"to": "alerts@example.com", "send_resolved": True}]}
    assert "smtp_auth_password" not in plain["global"] and plain["global"]["smtp_smarthost"] == "smtp.example.com:587"
    assert plain["route"]["receiver"] == "email"
    assert [r["receiver"] for r in plain["route"]["routes"]] == ["null", "null", "page"]
    hooked = alertmanager_config(alerting, "https://alerts.example.net/h", "pw")
    assert receivers(hooked)["page"]["webhook_configs"] == [{"url": "https://alerts.example.net/h", "send_resolved": True}]
    assert hooked["global"]["smtp_auth_password"] == "pw"
    assert "webhook_configs" not in receivers(hooked)["email"]


def test_with_a_slack_channel_the_webhook_is_slacks() -> None:
    alerting = settings_of(
        "staging",
        {
            "marketplace:alerting": '{"slackChannel": "#catalog"}',
            "marketplace:alertWebhookUrl": "https://hooks.slack.com/services/x",
        },
    ).alerting
    page = receivers(alertmanager_config(alerting, "https://hooks.slack.com/services/x", None))["page"]
    assert page["slack_configs"] == [
        {"api_url": "https://hooks.slack.com/services/x", "channel": "#catalog", "send_resolved": True}
    ]
    assert "webhook_configs" not in page


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")


def test_every_runbook_link_lands_on_a_heading_of_the_observability_doc() -> None:
    doc = (ROOT / "docs" / "observability.md").read_text()
    anchors = {anchor(line.lstrip("#").strip()) for line in doc.splitlines() if line.startswith("#")}
    links = {
        rule["annotations"]["runbook"]
        for group in cluster_rule_groups(region="nyc3", cluster="nyc3", pools={"workers": 10})
        for rule in group["rules"]
        if "alert" in rule
    }
    assert len(links) == 6
    for link in links:
        path, _, fragment = link.partition("#")
        assert path == "docs/observability.md" and fragment in anchors, link
