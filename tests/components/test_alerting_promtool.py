"""The rules every cluster declares and the Alertmanager configuration, checked by
Prometheus's and Alertmanager's own tools (promtool 2.42 and amtool 0.25, Debian 12's; see
tests/promtools.py): each tool gets all of its files in one call."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.alerting import EMAIL_RECEIVER, NULL_RECEIVER, PAGE_RECEIVER, alertmanager_config
from components.monitoring import ALERTMANAGER_KEY, ALERTMANAGER_SECRET
from offline.engine import Plan, reveal
from tests.conftest import plan_of
from tests.k8s_objects import metadata, objects, regions_of
from tests.promtools import run, shell, tool
from tests.stack_settings import settings_of

UNIT_TESTS = Path(__file__).parent / "rules" / "catalog.test.yaml"


def rule_files(plan: Plan, directory: Path) -> list[Path]:
    """Every cluster's PrometheusRule of a plan, unwrapped to the rule file Prometheus reads."""
    files = []
    for region in regions_of(plan):
        for rule in objects(plan, region, "PrometheusRule"):
            path = directory / f"{plan.stack}-{rule.name}.yaml"
            path.write_text(yaml.safe_dump({"groups": reveal(rule.inputs["spec"])["groups"]}, sort_keys=False))
            files.append(path)
    return files


def test_every_clusters_rules_pass_promtool_check(tmp_path: Path) -> None:
    # Production's five clusters: every other stack renders the same rules with its own
    # region, cluster and pool labels and maxima.
    files = rule_files(plan_of("production"), tmp_path)
    assert len(files) == 5
    result = run("promtool", "check", "rules", "--lint=duplicate-rules", "--lint-fatal", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: the same rules with one expression cut short."""
    [path, *_] = rule_files(plan_of("production"), tmp_path)
    rules = yaml.safe_load(path.read_text())
    rules["groups"][0]["rules"][1]["expr"] = rules["groups"][0]["rules"][1]["expr"][:-2]
    path.write_text(yaml.safe_dump(rules))
    result = run("promtool", "check", "rules", path)
    assert result.returncode == 1
    assert "unclosed left parenthesis" in result.stdout + result.stderr


def test_the_alerts_fire_as_the_unit_tests_expect(tmp_path: Path) -> None:
    """tests/components/rules/catalog.test.yaml against what production's nyc3 declares."""
    plan = plan_of("production")
    [rule] = [r for r in objects(plan, "nyc3", "PrometheusRule")]
    (tmp_path / "rendered.rules.yaml").write_text(yaml.safe_dump({"groups": reveal(rule.inputs["spec"])["groups"]}))
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    result = run("promtool", "test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# --- Alertmanager -------------------------------------------------------------------------

VARIANTS: dict[str, dict[str, str]] = {
    "email only": {},
    "generic webhook": {"marketplace:alertWebhookUrl": "https://alerts.example.net/hooks/catalog?token=abc"},
    "slack and smtp login": {
        "marketplace:alertWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
        "marketplace:alertSmtpPassword": "smtp-password",
        "marketplace:alerting": '{"slackChannel": "#catalog-alerts", "smtp": {"username": "alertmanager"}}',
    },
}


def variant_config(extra: dict[str, str]) -> dict[str, Any]:
    alerting = settings_of("production", extra).alerting
    return alertmanager_config(
        alerting,
        alerting.webhook_url.value if alerting.webhook_url else None,
        alerting.smtp_password.value if alerting.smtp_password else None,
    )


def test_every_declared_and_variant_configuration_passes_amtool(tmp_path: Path) -> None:
    files = []
    plan = plan_of("production")
    for region in regions_of(plan):
        [secret] = [s for s in objects(plan, region, "Secret") if metadata(s)["name"] == ALERTMANAGER_SECRET]
        path = tmp_path / f"production-{region}.yaml"
        path.write_text(reveal(secret.inputs["stringData"])[ALERTMANAGER_KEY])
        files.append(path)
    for name, extra in VARIANTS.items():
        path = tmp_path / f"{name.replace(' ', '-')}.yaml"
        path.write_text(yaml.safe_dump(variant_config(extra)))
        files.append(path)
    result = run("amtool", "check-config", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files) == 8


# (labels of an alert, the receiver it must reach, amtool's exit status)
ROUTES = [
    ("severity=critical alertname=CatalogErrorBudgetBurn region=fra1 app=catalog-api", PAGE_RECEIVER, 0),
    ("severity=critical alertname=OriginCertificateExpiresSoon region=sgp1", PAGE_RECEIVER, 0),
    ("severity=warning alertname=PodCrashLooping region=nyc3 namespace=catalog", EMAIL_RECEIVER, 0),
    ("severity=warning alertname=NodePoolAtMaximum region=blr1", EMAIL_RECEIVER, 0),
    ("alertname=TargetDown", EMAIL_RECEIVER, 0),
    ("alertname=Watchdog severity=none", NULL_RECEIVER, 0),
    ("alertname=InfoInhibitor severity=none", NULL_RECEIVER, 0),
    # The route test itself can fail: a page is not routed to email alone.
    ("severity=critical alertname=CatalogErrorBudgetBurn", EMAIL_RECEIVER, 1),
]


@pytest.mark.parametrize("variant", ["generic webhook", "slack and smtp login"])
def test_alerts_reach_the_right_receiver(tmp_path: Path, variant: str) -> None:
    (tmp_path / "alertmanager.yaml").write_text(yaml.safe_dump(variant_config(VARIANTS[variant])))
    amtool = tool("amtool")
    script = "\n".join(
        f'{amtool} config routes test --config.file=alertmanager.yaml --verify.receivers={receiver} {labels} >/dev/null 2>&1; echo "$?"'
        for labels, receiver, _ in ROUTES
    )
    result = shell(script, tmp_path)
    assert [int(line) for line in result.stdout.split()] == [status for _, _, status in ROUTES], result.stderr


def test_a_missing_tool_fails_the_test_and_says_how_to_install_it() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        tool("promtool-that-is-not-installed")
    assert str(failed.value) == (
        "promtool-that-is-not-installed is not installed: run `make tools` (it unpacks promtool and amtool from "
        "Debian's prometheus and prometheus-alertmanager packages into .tools/prometheus/bin), or put them on PATH"
    )
