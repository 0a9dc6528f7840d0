"""`ops preflight`: before a real preview or up, each reason the deploy could not reach the
clusters (or would deploy placeholders) is one line, in well under a second, without the
cloud SDKs."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from offline.stack_config import ROOT
from ops.live import preflight

READY = {
    "marketplace:cloudflareAccountId": "1" * 32,
    "marketplace:cloudflareZoneId": "2" * 32,
    "marketplace:cloudflareZoneName": "acme.shop",
    "marketplace:domain": "catalog.acme.shop",
    "marketplace:controlPlaneAllowList": ["8.8.4.0/24", "1.1.1.1"],
}


def project(tmp_path: Path, config: Mapping[str, object]) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())
    document["config"].update(config)
    (tmp_path / "Pulumi.production.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def offline(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    raise AssertionError(f"no network in this test: {url}")


def run(root: Path, *argv: str, get: preflight.Get = offline, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    preflight.add_arguments(parser)
    args = parser.parse_args(["--stack", "production", "--root", str(root), *argv])
    return preflight.run(args, get=get, environ=environ or {})


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]


def test_the_placeholders_are_the_ones_pulumi_yaml_ships():
    project_config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    for key, value in preflight.PLACEHOLDER_IDS.items():
        assert project_config[key.split(":")[1]]["default"] == value
    assert project_config["controlPlaneAllowList"]["default"] == ["203.0.113.0/24"]


def test_the_shipped_stack_fails_with_one_line_per_reason(capsys: pytest.CaptureFixture[str]):
    assert run(ROOT, "--egress-ip", "8.8.8.8") == 1
    assert errors(capsys) == [
        "error: stack 'production': marketplace:cloudflareAccountId is still the placeholder "
        "0123456789abcdef0123456789abcdef: set your own (pulumi config set marketplace:cloudflareAccountId <id>)",
        "error: stack 'production': marketplace:cloudflareZoneId is still the placeholder "
        "fedcba9876543210fedcba9876543210: set your own (pulumi config set marketplace:cloudflareZoneId <id>)",
        "error: stack 'production': marketplace:cloudflareZoneName is example.com, a reserved example name (RFC 2606): "
        "set your own",
        "error: stack 'production': marketplace:domain is catalog.example.com, a reserved example name (RFC 2606): set your own",
        "error: stack 'production': marketplace:controlPlaneAllowList: 203.0.113.0/24 is a documentation range "
        "(RFC 5737), the shipped placeholder: list your runners' egress",
        "error: stack 'production': this runner's egress address 8.8.8.8 is not in marketplace:controlPlaneAllowList "
        "(203.0.113.0/24): every Kubernetes call of the deploy would time out at the control-plane firewall; run the "
        "deploy on the runner with the static egress address, or add this one",
    ]


def test_a_configured_stack_passes_from_an_allowed_runner(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = project(tmp_path, READY)
    assert run(root, "--egress-ip", "8.8.4.4") == 0
    assert capsys.readouterr().out == "preflight: stack 'production' can be deployed from here\n"
    # The variable the deploy jobs set works the same way; any other runner fails.
    assert run(root, environ={"DEPLOY_EGRESS_IP": "1.1.1.1"}) == 0
    assert run(root, "--egress-ip", "9.9.9.9") == 1
    (line,) = errors(capsys)
    assert "this runner's egress address 9.9.9.9 is not in marketplace:controlPlaneAllowList (8.8.4.0/24, 1.1.1.1)" in line


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            "2606:4700::/32",
            "2606:4700::/32 is IPv6; only IPv4 is accepted: the control-plane firewall takes public IPv4 addresses or CIDRs only",
        ),
        (
            "10.10.0.0/16",
            "10.10.0.0/16 is not a public address: the control-plane firewall takes public IPv4 addresses or CIDRs only",
        ),
        ("100.64.0.0/10", "100.64.0.0/10 is not a public address"),
        ("100.0.0.0/9", "100.0.0.0/9 is not a public address"),
        ("198.51.100.0/24", "198.51.100.0/24 is a documentation range (RFC 5737)"),
        ("192.0.2.10", "192.0.2.10 is a documentation range (RFC 5737)"),
    ],
)
def test_entries_the_firewall_cannot_take_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, problem: str
):
    root = project(tmp_path, {**READY, "marketplace:controlPlaneAllowList": ["8.8.4.0/24", entry]})
    assert run(root, "--egress-ip", "8.8.4.4") == 1
    (line,) = errors(capsys)
    assert line.startswith(f"error: stack 'production': marketplace:controlPlaneAllowList: {problem}")


def test_the_egress_address_is_discovered_when_not_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = project(tmp_path, READY)
    asked = []

    def echo(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        asked.append(url)
        if url == preflight.ECHO_SERVICES[0]:
            raise TimeoutError("timed out")
        return 200, b"8.8.4.9\n"

    assert run(root, get=echo) == 0
    assert asked == list(preflight.ECHO_SERVICES)

    def silent(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        return 503, b""

    assert run(root, get=silent) == 1
    (line,) = errors(capsys)
    assert "this runner's egress address could not be discovered" in line and line.endswith(": pass --egress-ip")


class FakeApi:
    """The DigitalOcean API as the preflight sees it."""

    def __init__(self, options: int = 200, credentials: int = 200, offered: tuple[str, ...] = ("1.36.1-do.0",)) -> None:
        self.options, self.credentials, self.offered = options, credentials, offered
        self.tokens: set[str] = set()

    def __call__(self, url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        self.tokens.add(headers.get("Authorization", ""))
        path = url.removeprefix(preflight.DIGITALOCEAN_API)
        if path == "/kubernetes/options":
            body = {"options": {"versions": [{"slug": slug} for slug in self.offered]}}
            return self.options, json.dumps(body).encode()
        if path.startswith("/kubernetes/clusters?"):
            clusters = [{"id": "c1", "name": "mkt-production-nyc3"}, {"id": "c2", "name": "someone-else"}]
            return 200, json.dumps({"kubernetes_clusters": clusters}).encode()
        if path == "/kubernetes/clusters/c1/credentials":
            return self.credentials, b"{}"
        raise AssertionError(f"unexpected call {url}")


@pytest.mark.parametrize(
    ("api", "failure"),
    [
        (FakeApi(options=401), "DIGITALOCEAN_TOKEN is not a valid DigitalOcean API token (401)"),
        (FakeApi(options=403), "DIGITALOCEAN_TOKEN may not read DOKS (403): it needs the kubernetes:read scope"),
    ],
)
def test_the_token_must_be_valid_and_read_doks(tmp_path: Path, capsys: pytest.CaptureFixture[str], api: FakeApi, failure: str):
    root = project(tmp_path, READY)
    assert run(root, "--egress-ip", "8.8.4.4", get=api, environ={"DIGITALOCEAN_TOKEN": "dop_v1_x"}) == 1
    (line,) = errors(capsys)
    assert failure in line
    assert api.tokens == {"Bearer dop_v1_x"}


def test_a_refresh_needs_a_token_that_may_fetch_the_stacks_cluster_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A refresh fetches a cluster's credentials once the stored ones expire (7 days), which a
    read-only token may not: the drift check fails in the preflight, not in the preview."""
    root = project(tmp_path, READY)
    token = {"DIGITALOCEAN_TOKEN": "dop_v1_read"}
    problem = (
        "DIGITALOCEAN_TOKEN may not fetch the credentials of mkt-production-nyc3 (403): a refresh fetches them once the "
        "stored ones expire, which takes kubernetes:access_cluster on a token with write scope"
    )
    assert run(root, "--egress-ip", "8.8.4.4", "--refresh", get=FakeApi(credentials=403), environ=token) == 1
    (line,) = errors(capsys)
    assert problem in line
    # Without a refresh nothing fetches them: a note only.
    assert run(root, "--egress-ip", "8.8.4.4", get=FakeApi(credentials=403), environ=token) == 0
    assert f"note: {problem}" in capsys.readouterr().err


def test_the_zone_stack_reaches_no_cluster_and_checks_only_its_own_placeholders(capsys: pytest.CaptureFixture[str]):
    from components.settings import ZONE_STACK

    assert preflight.ZONE_STACK == ZONE_STACK
    parser = argparse.ArgumentParser()
    preflight.add_arguments(parser)
    assert preflight.run(parser.parse_args(["--stack", "zone", "--root", str(ROOT)]), get=offline, environ={}) == 1
    assert errors(capsys) == [
        "error: stack 'zone': marketplace:cloudflareZoneId is still the placeholder fedcba9876543210fedcba9876543210: set "
        "your own (pulumi config set marketplace:cloudflareZoneId <id>)",
        "error: stack 'zone': marketplace:cloudflareZoneName is example.com, a reserved example name (RFC 2606): set your own",
    ]


def test_a_good_token_passes_and_unoffered_versions_are_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = project(tmp_path, READY)
    assert run(root, "--egress-ip", "8.8.4.4", get=FakeApi(), environ={"DIGITALOCEAN_TOKEN": "t"}) == 0
    assert "note:" not in capsys.readouterr().err
    assert run(root, "--egress-ip", "8.8.4.4", get=FakeApi(offered=("1.36.4-do.0",)), environ={"DIGITALOCEAN_TOKEN": "t"}) == 0
    assert "note: DigitalOcean does not offer 1.36.1-do.0 today" in capsys.readouterr().err


def test_bad_input_stops_before_any_check(capsys: pytest.CaptureFixture[str]):
    assert run(ROOT, "--egress-ip", "2001:db8::1") == 2
    assert capsys.readouterr().err == "error: --egress-ip must be an IPv4 address, got '2001:db8::1'\n"


def test_it_is_an_ops_command_that_loads_no_cloud_sdk():
    code = (
        "import sys; from ops.cli import main; rc = main(['preflight', '--stack', 'production', '--egress-ip', '8.8.8.8']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith(('pulumi', 'grpc'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout.strip() == "[]"
    assert "error: stack 'production': marketplace:cloudflareAccountId is still the placeholder" in result.stderr


@pytest.mark.parametrize(
    ("config", "environ", "error"),
    [
        (
            {"marketplace:controlPlaneAllowList": {"secure": "v1:abc"}},
            {},
            "marketplace:controlPlaneAllowList must be a list of IPv4 addresses or CIDR ranges in plain text, not a secret",
        ),
        (
            {"marketplace:controlPlaneAllowList": [1, 2]},
            {},
            "marketplace:controlPlaneAllowList must be a list of IPv4 addresses or CIDR ranges, each a quoted string",
        ),
        (
            {"marketplace:generations": [1, 2]},
            {"DIGITALOCEAN_TOKEN": "t"},
            "marketplace:generations must be an object of regions, each a list of generations",
        ),
        (
            {"marketplace:generations": {"nyc3": [1]}},
            {"DIGITALOCEAN_TOKEN": "t"},
            "marketplace:generations must be an object of regions, each a list of generations",
        ),
    ],
    ids=["secret allow-list", "numbers in the allow-list", "generations a list", "a generation a number"],
)
def test_a_value_of_the_wrong_shape_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: dict[str, object], environ: dict[str, str], error: str
):
    root = project(tmp_path, {**READY, **config})
    assert run(root, "--egress-ip", "8.8.4.4", get=FakeApi(), environ=environ) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: stack 'production': {error}")
