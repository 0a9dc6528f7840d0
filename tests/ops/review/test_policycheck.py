"""The policy pack in every review: `ops plan` and `ops diff` run it over the plan they make,
head their output with its verdict, and exit non-zero on a mandatory violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from offline.engine import Plan
from ops.cli import main
from ops.review import diff as diff_command
from ops.review.diff import comparable_document
from ops.review.plan import finish
from ops.review.policycheck import POLICY_EXIT, Finding, PolicyReport, check, render_markdown, render_text
from tests import policy_fixtures as fx
from tests.conftest import plan_of

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
# The plan the pack's own tests break (tests/policy/test_offline.py): production in one region.
ONE_REGION = {"marketplace:regions": ["nyc3"]}
HA_POLICY = "doks-production-ha-control-plane"


def production() -> Plan:
    return plan_of("production", overrides=ONE_REGION)


def without_ha() -> Plan:
    """Production whose cluster lost its HA control plane: what the pack must stop."""
    return fx.edited(production(), CLUSTER, lambda inputs: inputs.update(ha=False))


class CachedBase:
    """Stands in for the base revision's process: the base plan is a cached document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.document = comparable_document(production(), b"base")

    def result(self) -> tuple[dict[str, Any], None]:
        return self.document, None

    def __enter__(self) -> CachedBase:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture
def offline_diff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`ops diff` on cached plans: the base from the fixture above, the head without HA."""
    monkeypatch.setattr(diff_command, "BasePlan", CachedBase)
    monkeypatch.setattr(diff_command, "head_plan", lambda stack, root: without_ha())
    yield


def test_a_mandatory_violation_fails_ops_diff_and_heads_the_comment(offline_diff: None, capsys: pytest.CaptureFixture[str]):
    assert main(["diff", "--stack", "production", "--base", "HEAD", "--markdown"]) == POLICY_EXIT
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == (f":no_entry: **Policy pack: 1 mandatory violation(s) ({HA_POLICY}): `pulumi up` would refuse this**")
    row = next(line for line in lines if line.startswith("| mandatory |"))
    assert f"`{HA_POLICY}`" in row and "`nyc3-doks`" in row and "HA control plane" in row
    # The rest of the review is still there: the change and its (seeming) saving.
    assert any(line.startswith("Offline plan of `production` against ") for line in lines)
    assert "| **change** | **-$40** | **-$40** |" in captured.out
    assert "~ ha: true => false" in captured.out
    assert (
        captured.err.strip().splitlines()[-1]
        == f"error: Policy pack: 1 mandatory violation(s) ({HA_POLICY}): `pulumi up` would refuse this"
    )


def test_the_text_diff_says_the_same_first_and_skipping_the_pack_is_explicit(
    offline_diff: None, capsys: pytest.CaptureFixture[str]
):
    assert main(["diff", "--stack", "production", "--base", "HEAD"]) == POLICY_EXIT
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("Policy pack: 1 mandatory violation(s)")
    assert out[3].startswith(f"    [mandatory] {HA_POLICY}: nyc3-doks: ")
    assert main(["diff", "--stack", "production", "--base", "HEAD", "--no-policy"]) == 0
    assert "Policy pack" not in capsys.readouterr().out


def test_ops_plan_runs_the_pack_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    import offline.engine

    monkeypatch.setattr(offline.engine, "run_plan", lambda stack, root: without_ha())
    assert main(["plan", "--stack", "production"]) == POLICY_EXIT
    captured = capsys.readouterr()
    assert captured.out.splitlines()[2].startswith("Policy pack: 1 mandatory violation(s)")
    assert "error: Policy pack: 1 mandatory violation(s)" in captured.err
    assert main(["plan", "--stack", "production", "--json"]) == POLICY_EXIT
    document = json.loads(capsys.readouterr().out)
    assert [(v["policy"], v["enforcement"]) for v in document["policyViolations"]] == [(HA_POLICY, "mandatory")]
    monkeypatch.setattr(offline.engine, "run_plan", lambda stack, root: production())
    assert main(["plan", "--stack", "production", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["policyViolations"] == []


def test_the_pack_runs_with_the_project_config():
    # policy/policy-config.json sets the dev budget; a report of a clean stack is empty.
    assert check(plan_of("dev-alice")).findings == []
    report = check(without_ha())
    assert report.blocks and [(f.policy, f.resource) for f in report.mandatory] == [(HA_POLICY, "nyc3-doks")]


def test_advisory_findings_show_but_do_not_fail():
    report = PolicyReport([Finding("some-advice", "advisory", "urn:pulumi:dev::marketplace::t::thing", "consider it")])
    assert not report.blocks and finish(report) == 0 and finish(None) == 0
    assert render_text(report).splitlines() == [
        "Policy pack: 1 advisory violation(s) (some-advice); nothing mandatory",
        "    [advisory] some-advice: thing: consider it",
    ]
    assert render_markdown(report).startswith(":warning: **Policy pack: 1 advisory violation(s)")
    # A message cannot break the table.
    odd = PolicyReport([Finding("p", "mandatory", "", "a | b\nc <d>")])
    assert "| mandatory | `p` | `(stack)` | a \\| b c &lt;d&gt; |" in render_markdown(odd)
