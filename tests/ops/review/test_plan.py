"""`ops plan` as an operator runs it: the tree, the JSON, and refusals without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offline.stack_config import ROOT, stand_in
from ops.cli import main

# What the command prints, from cached plans; a real run is audited in tests/test_secrets_audit.py.
pytestmark = pytest.mark.usefixtures("commands_plan_from_cache")


def test_text_plan_shows_the_tree_counts_and_redacted_outputs(capsys: pytest.CaptureFixture[str]):
    assert main(["plan", "--stack", "production"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Offline plan of marketplace/production")
    for region in ("sfo3", "nyc3", "fra1", "blr1", "sgp1"):
        assert "+ marketplace:index:RegionalCluster" in out
        assert f"{region}-doks" in out and f"{region}-vpc" in out and f"{region}-k8s" in out
    assert "   5  digitalocean:index/kubernetesCluster:KubernetesCluster" in out
    assert "mkt-production-assets [protect] [retain]" in out
    assert 'kubeconfigs: {"blr1": "[secret]"' in out
    assert stand_in("digitalocean:token") not in out


def test_json_plan_lists_resources_with_parents_and_dependencies(capsys: pytest.CaptureFixture[str]):
    assert main(["plan", "--stack", "dev-alice", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["stack"] == "dev-alice"
    resources = {r["name"]: r for r in document["resources"]}
    cluster = resources["nyc3-doks"]
    component = next(r for r in document["resources"] if r["type"] == "marketplace:index:RegionalCluster")
    assert cluster["parent"] == component["urn"]
    assert resources["nyc3-vpc"]["urn"] in cluster["dependencies"]
    assert cluster["region"] == "nyc3"
    assert resources["nyc3-k8s"]["inputs"]["kubeconfig"] == "[secret]"
    assert document["outputs"]["url"] == "https://alice.dev.catalog.example.com"


def test_no_stack_means_dev(capsys: pytest.CaptureFixture[str]):
    assert main(["plan"]) == 0
    assert capsys.readouterr().out.startswith("Offline plan of marketplace/dev ")


def test_a_refused_stack_exits_non_zero_with_one_message_and_no_traceback():
    # A real process, as an operator runs it: nothing but the message reaches stderr.
    result = subprocess.run(
        [sys.executable, "-m", "ops", "plan", "--stack", "dev-Bad_Name"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: stack 'dev-Bad_Name': config 'pulumi:stack': unknown stack kind: stacks are 'production', "
        "'staging', 'dev' or a personal 'dev-<name>' (lowercase letters, digits and hyphens, at most 40)"
    ]


def test_warnings_go_to_stderr_one_line_each_and_the_account_is_checked_on_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    from components.settings import parse_settings
    from tests.conftest import plan_of

    monkeypatch.setattr("offline.engine.run_plan", lambda stack, root=None: plan_of(stack))
    assert main(["plan", "--stack", "dev"]) == 0
    err = capsys.readouterr().err.splitlines()
    # The shipped allow-list is a placeholder: a real deploy could not reach the cluster.
    assert err == [
        "warning: control-plane firewall address of dev:nyc3-doks (controlPlaneFirewall.allowedAddresses[0]): "
        "203.0.113.0/24 is a documentation range (RFC 5737): a placeholder that reaches no one "
        '(OAS kubernetes/models/control_plane_firewall.yml allowed_addresses: "public addresses (IPv4 or CIDR)")'
    ]
    # Across the account: another stack that asks for a name this one has is named. (Kinds'
    # blocks are reserved; two personal stacks can still meet on one.)
    real_plan = plan_of("dev-alice")
    alice_block = parse_settings("dev-alice", real_plan.config.values, real_plan.config.secret_keys).network_block
    clash = plan_of("dev-bob", overrides={"marketplace:networkBlock": alice_block})
    monkeypatch.setattr("ops.review.plan.account_stacks", lambda root: ["dev-bob", "dev-alice"])
    monkeypatch.setattr("offline.engine.run_plan", lambda stack, root=None: clash if stack == "dev-bob" else real_plan)
    assert main(["plan", "--stack", "dev-bob", "--account"]) == 0
    account_err = capsys.readouterr().err
    assert "warning: VPC IP range " in account_err and "dev-bob:nyc3-vpc and dev-alice:nyc3-vpc" in account_err


def test_a_manifests_directory_that_cannot_be_written_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    # Refused before any planning: the engine is not even asked.
    with monkeypatch.context() as unplanned:
        unplanned.setattr("offline.engine.run_plan", lambda *_, **__: pytest.fail("planned before checking --manifests"))
        for target, problem in ((a_file, "not a directory"), (a_file / "out", f"{a_file} is not a directory")):
            assert main(["plan", "--stack", "dev", "--manifests", str(target)]) == 2
            assert capsys.readouterr() == ("", f"error: --manifests {target}: {problem}\n")
    # What only the write itself finds: a file where a region's folder goes.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "nyc3").write_text("")
    assert main(["plan", "--stack", "dev", "--manifests", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: --manifests {tmp_path / 'out'}: ") and len(err.splitlines()) == 1
