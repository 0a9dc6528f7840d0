"""Secrets audit: a value set with `--secret` (and any key the program generates) stays marked
secret in every resource input and stack output that carries it, and shows in nothing an
operator or CI sees: the plan text, the plan JSON, the manifests, the logs.

Generic: every stand-in of `plan.config.stand_ins` (each `secure:` value and the offline
DigitalOcean token) is searched for, raw and base64-encoded (Kubernetes Secret data), and
so is every PEM private key and every output of a key-generating resource.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from offline.engine import Plan, SecretValue, reveal
from offline.stack_config import ROOT, stand_in
from ops.cli import main
from ops.review.manifests import write_manifests
from ops.review.plan import plan_document, render_text
from tests import policy_fixtures as fx
from tests.conftest import STACKS, plan_of

# Outputs the providers mark secret themselves (additionalSecretOutputs in their schemas);
# the mock engine does not, so they are exempt on the resource that makes them, and must
# be marked everywhere they travel to.
GENERATED_SECRETS: dict[str, tuple[str, ...]] = {
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"),
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "cloudflare:index/originCaCertificate:OriginCaCertificate": ("privateKey",),
    "digitalocean:index/databaseCluster:DatabaseCluster": ("password", "uri", "privateUri", "uiPassword", "uiUri"),
    "digitalocean:index/databaseUser:DatabaseUser": ("password", "accessKey", "accessCert"),
}
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")

WITH_SECURE_TOKEN = (ROOT / "Pulumi.dev.yaml").read_text() + (
    "  marketplace:kubernetesApiToken:\n    secure: v1:c2FsdA==:Y2lwaGVydGV4dCBvZiBhIHRva2Vu\n"
)
# Alert destinations' secrets travel to Alertmanager and to DigitalOcean's alerts; the log
# store's passwords to the shippers and the retention Job (one region: the cheapest plan).
WITH_ALERT_SECRETS = (ROOT / "Pulumi.dev.yaml").read_text() + (
    "  marketplace:monitoring: true\n  marketplace:logStore: {enabled: true}\n"
    "  marketplace:alerting:\n    slackChannel: '#catalog-alerts'\n    smtp: {username: alertmanager}\n"
    "  marketplace:alertWebhookUrl:\n    secure: v1:c2FsdA==:d2ViaG9vaw==\n"
    "  marketplace:alertSmtpPassword:\n    secure: v1:c2FsdA==:c210cA==\n"
)
# (stack, stack file text or None for the real one)
CASES = [*((stack, None) for stack in STACKS), ("dev", WITH_SECURE_TOKEN), ("dev", WITH_ALERT_SECRETS)]
IDS = [*STACKS, "dev-with-secure-token", "dev-with-alert-and-log-secrets"]


def needles(plan: Plan) -> dict[str, str]:
    """What must never show: each secret value, raw and as base64."""
    found: dict[str, str] = {}
    for key, value in plan.config.stand_ins.items():
        found[f"config {key}"] = value
        found[f"config {key} (base64)"] = base64.b64encode(value.encode()).decode()
    for resource in plan.resources:
        for field in GENERATED_SECRETS.get(resource.type, ()):
            value = reveal(resource.outputs.get(field))
            if isinstance(value, str) and len(value) >= 8:
                found[f"{resource.name}.{field}"] = value
    return found


def exposures(value: Any, secrets: Mapping[str, str], where: str, inside_secret: bool = False) -> Iterator[str]:
    """Places in `value` where a secret travels without its secret mark."""
    if isinstance(value, SecretValue):
        yield from exposures(value.value, secrets, where, True)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from exposures(item, secrets, f"{where}.{key}", inside_secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from exposures(item, secrets, f"{where}[{index}]", inside_secret)
    elif isinstance(value, str) and not inside_secret:
        for name, secret in secrets.items():
            if secret in value:
                yield f"{where} carries {name} unmarked"
        if PRIVATE_KEY.search(value):
            yield f"{where} carries a private key unmarked"


def leaks(plan: Plan) -> list[str]:
    secrets = needles(plan)
    found: list[str] = []
    for resource in plan.resources:
        found += exposures(resource.inputs, secrets, f"{resource.name} input")
        exempt = GENERATED_SECRETS.get(resource.type, ())
        outputs = {key: value for key, value in resource.outputs.items() if key not in exempt}
        found += exposures(outputs, secrets, f"{resource.name} output")
    found += exposures(plan.outputs, secrets, "stack output")
    return found


def shown(text: str, plan: Plan) -> list[str]:
    found = [name for name, secret in needles(plan).items() if secret in text]
    return found + (["a private key"] if PRIVATE_KEY.search(text) else [])


@pytest.mark.parametrize(("stack", "stack_text"), CASES, ids=IDS)
def test_secrets_stay_marked_in_every_input_and_output(stack: str, stack_text: str | None):
    plan = plan_of(stack, stack_text=stack_text)
    assert plan.config.stand_ins, "every stack has at least the offline DigitalOcean token"
    assert leaks(plan) == []


@pytest.mark.parametrize(("stack", "stack_text"), CASES, ids=IDS)
def test_secrets_show_in_neither_the_plan_text_nor_the_json(stack: str, stack_text: str | None):
    plan = plan_of(stack, stack_text=stack_text)
    document = plan_document(plan)
    assert shown(render_text(document), plan) == []
    assert shown(json.dumps(document), plan) == []


def test_a_secure_value_reaches_the_resources_that_use_it_marked():
    plan = plan_of("dev", stack_text=WITH_SECURE_TOKEN)
    token = plan.config.stand_ins["marketplace:kubernetesApiToken"]
    provider = plan.one("pulumi:providers:kubernetes", "nyc3-k8s")
    assert isinstance(provider.inputs["kubeconfig"], SecretValue)
    assert token in provider.inputs["kubeconfig"].value
    assert isinstance(plan.outputs["kubeconfigs"]["nyc3"], SecretValue)


@pytest.mark.parametrize(("stack", "stack_text"), CASES, ids=IDS)
def test_secrets_show_in_no_manifest(stack: str, stack_text: str | None, tmp_path: Path):
    plan = plan_of(stack, stack_text=stack_text)
    write_manifests(plan, tmp_path)
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        assert shown(path.read_text(errors="replace"), plan) == [], path


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_show_in_no_log_and_no_cli_output(
    stack: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    caplog.set_level(logging.DEBUG)
    plan = plan_of(stack)  # what to look for; the command below runs the program for real
    # One run prints the JSON and writes the manifests; the text output is render_text of
    # the same document, audited in test_secrets_show_in_neither_the_plan_text_nor_the_json.
    assert main(["plan", "--stack", stack, "--json", "--manifests", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for name, text in (("stdout", out), ("stderr", err), ("logs", logs)):
        assert shown(text, plan) == [], name


def test_the_audit_catches_a_secret_that_lost_its_mark():
    plan = plan_of("dev")
    token = stand_in("digitalocean:token")
    # A program that unwraps the kubeconfig before it reaches the provider and an output.
    leaky = fx.edited(
        plan, "pulumi:providers:kubernetes", lambda i: i.update(kubeconfig=reveal(i["kubeconfig"])), name="nyc3-k8s"
    )
    leaky.outputs = {**copy.deepcopy(plan.outputs), "debugToken": base64.b64encode(token.encode()).decode()}
    assert leaks(leaky) == [
        "nyc3-k8s input.kubeconfig carries config digitalocean:token unmarked",
        "nyc3-k8s output.kubeconfig carries config digitalocean:token unmarked",
        "stack output.debugToken carries config digitalocean:token (base64) unmarked",
    ]
    document = plan_document(leaky)
    assert shown(render_text(document), leaky) == ["config digitalocean:token (base64)"]
    assert shown(json.dumps(document), leaky) == ["config digitalocean:token", "config digitalocean:token (base64)"]


def test_the_audit_catches_generated_keys_and_private_keys():
    pem = "-----BEGIN PRIVATE KEY-----\nb2ZmbGluZQ==\n-----END PRIVATE KEY-----\n"
    key = ("tls:index/privateKey:PrivateKey", "origin-key", {"algorithm": "ECDSA"})
    secret = ("kubernetes:core/v1:Secret", "origin-tls", {"stringData": {"tls.key": pem}})
    plan = fx.with_resources(plan_of("dev"), [key, secret])
    for resource in plan.resources:
        if resource.type == "tls:index/privateKey:PrivateKey":
            resource.outputs["privateKeyPem"] = pem  # made by the provider: exempt here
    assert leaks(plan) == [
        "origin-tls input.stringData.tls.key carries origin-key.privateKeyPem unmarked",
        "origin-tls input.stringData.tls.key carries a private key unmarked",
        "origin-tls output.stringData.tls.key carries origin-key.privateKeyPem unmarked",
        "origin-tls output.stringData.tls.key carries a private key unmarked",
    ]
    marked = fx.edited(plan, "kubernetes:core/v1:Secret", lambda i: i.update(stringData=SecretValue(i["stringData"])))
    assert leaks(marked) == []
