"""`ops drift`: the daily drift check fails on real drift and not on the load-balancer
changes the Cloudflare provider reports on every plan (terraform-provider-cloudflare#7339)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from ops.live.drift import LOAD_BALANCER, top_level, type_of

STACK = "urn:pulumi:production::marketplace::"
LB_URN = f"{STACK}marketplace:index:Edge$cloudflare:index/loadBalancer:LoadBalancer::edge-lb"
POOL_URN = f"{STACK}marketplace:index:Edge$cloudflare:index/loadBalancerPool:LoadBalancerPool::fra1-pool"
SETTING_URN = f"{STACK}marketplace:index:ZoneTls$cloudflare:index/zoneSetting:ZoneSetting::zone-tls-ssl"


def step(op: str, urn: str, diff: dict[str, str] | None = None, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "op": op,
        "urn": urn,
        "detailedDiff": {path: {"kind": kind, "inputDiff": False} for path, kind in (diff or {}).items()} or None,
        "newState": {"urn": urn, "inputs": inputs or {"name": "catalog.example.com", "steeringPolicy": "proximity"}},
    }


# What the issue shows on every plan: `+ country_pools = {}`, created_on/modified_on unknown.
ISSUE_7339 = step(
    "update",
    LB_URN,
    {"countryPools": "add", "createdOn": "update", "modifiedOn": "update", "sessionAffinityAttributes": "update"},
)


def drift(tmp_path: Path, capsys: pytest.CaptureFixture[str], *steps: dict[str, Any]) -> tuple[int, str]:
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"steps": list(steps), "changeSummary": {}}))
    code = main(["drift", str(preview)])
    return code, capsys.readouterr().out


def test_the_providers_load_balancer_noise_does_not_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = drift(tmp_path, capsys, step("same", POOL_URN), ISSUE_7339, step("refresh", SETTING_URN))
    assert code == 0
    assert out.splitlines() == [
        "ignored, provider noise (terraform-provider-cloudflare#7339): update "
        f"{LB_URN} (countryPools, createdOn, modifiedOn, sessionAffinityAttributes)",
        "0 drifted, 1 ignored",
    ]


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        (step("update", LB_URN, {"steeringPolicy": "update", "modifiedOn": "update"}), "a property the program sets"),
        (
            step("update", LB_URN, {"regionPools": "update"}, {"regionPools": {"WEU": ["a"]}}),
            "noise-like, but the program sets it",
        ),
        (step("update", LB_URN), "an update nobody can explain"),
        (step("update", POOL_URN, {"origins[0].weight": "update"}), "another resource"),
        (step("update", SETTING_URN, {"value": "update"}), "a zone setting changed in the dashboard"),
        (step("create", POOL_URN), "deleted outside Pulumi"),
        (step("delete", POOL_URN), "gone from the program"),
        (step("replace", LB_URN, {"zoneId": "update-replace"}), "a replacement"),
    ],
)
def test_anything_else_is_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str], changed: dict[str, Any], why: str) -> None:
    code, out = drift(tmp_path, capsys, ISSUE_7339, changed)
    assert code == 1, why
    assert f"drift: {changed['op']} {changed['urn']}" in out
    assert out.splitlines()[-1] == "1 drifted, 1 ignored"


def test_values_never_reach_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = step("update", POOL_URN, {"origins[0].address": "update"}, {"origins": [{"address": "198.51.100.7"}]})
    _, out = drift(tmp_path, capsys, secret)
    assert "198.51.100.7" not in out and "(origins)" in out


def test_an_unreadable_preview_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "preview.json").write_text("Previewing update (production)")
    assert main(["drift", str(tmp_path / "preview.json")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read the preview")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[]", "the preview must be an object, got a list"),
        (b"null", "the preview must be an object, got null"),
        (b'{"steps": 5}', "steps must be a list, got 5"),
        (b'{"steps": [5]}', "steps[0] must be an object, got 5"),
        (json.dumps({"steps": [{"urn": LB_URN}]}).encode(), "steps[0].op must be text, got null"),
        (json.dumps({"steps": [{"op": "update", "urn": 7}]}).encode(), "steps[0].urn must be text, got 7"),
        (
            json.dumps({"steps": [{"op": "update", "urn": LB_URN, "detailedDiff": ["countryPools"]}]}).encode(),
            "steps[0].detailedDiff must be an object, got a list",
        ),
        (
            json.dumps({"steps": [{"op": "update", "urn": LB_URN, "diffReasons": [1]}]}).encode(),
            "steps[0].diffReasons[0] must be text, got 1",
        ),
        (
            json.dumps({"steps": [{"op": "update", "urn": LB_URN, "newState": {"inputs": "x"}}]}).encode(),
            "steps[0].newState.inputs must be an object, got text",
        ),
        (b'{"steps": []}\xff', "'utf-8' codec can't decode byte 0xff in position 13: invalid start byte"),
    ],
)
def test_a_file_that_is_no_preview_is_an_error_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, problem: str
) -> None:
    # Not drift (1): the check itself could not run.
    preview = tmp_path / "preview.json"
    preview.write_bytes(content)
    assert main(["drift", str(preview)]) == 2
    assert capsys.readouterr() == ("", f"error: cannot read the preview {preview}: {problem}\n")


def test_property_paths_are_cut_to_their_property() -> None:
    assert top_level("sessionAffinityAttributes.drainDuration") == "sessionAffinityAttributes"
    assert top_level('countryPools["US"]') == "countryPools"
    assert top_level("origins[0].weight") == "origins"


def test_the_type_is_read_off_the_urn() -> None:
    assert type_of(LB_URN) == LOAD_BALANCER
    assert type_of(f"{STACK}{LOAD_BALANCER}::edge-lb") == LOAD_BALANCER
    assert type_of(POOL_URN) != LOAD_BALANCER
