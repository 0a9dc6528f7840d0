"""Values only the providers know (ids, addresses, endpoints, certificates, expiry dates):
found in a plan, printed as known after deploy, marked "[unknown]" in the JSON, never as
the mocks' stand-ins."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import PlannedResource, SecretValue
from ops.cli import main
from ops.review.computed import (
    AFTER_DEPLOY,
    Deployed,
    as_text,
    is_hidden,
    is_secret,
    known_after_deploy,
    provider_values,
    substitute,
)
from tests.conftest import plan_of


def resource(inputs: dict, outputs: dict, id_: str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") -> PlannedResource:
    return PlannedResource(
        urn="urn:pulumi:dev::marketplace::t::x", id=id_, type="t", name="x", parent=None, custom=True, provider=None,
        inputs=inputs, outputs=outputs, dependencies=[], property_dependencies={}, protect=False,
        retain_on_delete=False, ignore_changes=[], aliases=[],
    )  # fmt: skip


def test_a_provider_makes_up_ids_and_outputs_that_are_not_echoed_inputs():
    made = provider_values(
        resource(
            {"region": "nyc3", "ipRange": "10.192.4.0/22"},
            {
                "region": "nyc3",
                "ipRange": "10.192.4.0/22",
                "name": "mkt-dev-assets-290eba4",  # an auto-name: known at preview
                "endpoint": "https://0f1e2d3c.k8s.ondigitalocean.com",
                "status": "running",  # a state, never referred to
                "kubeConfigs": [SecretValue({"token": "dop_v1_offline_123456"})],
            },
        )
    )
    assert made == {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "https://0f1e2d3c.k8s.ondigitalocean.com", "dop_v1_offline_123456"}


def test_the_plan_knows_which_inputs_and_outputs_only_the_deploy_makes():
    plan = plan_of("dev")
    names = {r.urn: r.name for r in plan.resources}
    per_resource, outputs = known_after_deploy(plan)
    found = {
        (names[urn], ".".join(map(str, entry["path"])), tuple(names[u] for u in entry["from"]))
        for urn, entries in per_resource.items()
        for entry in entries
    }
    assert {
        ("nyc3-doks", "vpcUuid", ("nyc3-vpc",)),
        ("nyc3-pool", "origins.0.address", ("nyc3-gateway-gateway",)),
        ("nyc3-pool", "monitor", ("edge-monitor",)),
        ("edge-lb", "defaultPools.0", ("nyc3-pool",)),
        ("assets-cdn", "origin", ("mkt-dev-assets",)),
        # Inside a secret: the kubeconfig is built from the cluster's endpoint.
        ("nyc3-k8s", "kubeconfig", ("nyc3-doks",)),
    } <= found
    # What the program chose is known: names, versions, weights, the VPC's range.
    paths = {(name, path) for name, path, _ in found}
    for known in (
        ("nyc3-pool", "origins.0.weight"),
        ("nyc3-doks", "version"),
        ("nyc3-vpc", "ipRange"),
        ("assets-cors", "bucket"),
    ):
        assert known not in paths
    shown_outputs = {".".join(map(str, entry["path"])) for entry in outputs}
    assert {"origins.nyc3", "pools.nyc3", "clusters.nyc3", "originCertificateExpiresOn", "assetsCdn"} <= shown_outputs
    assert not shown_outputs & {"url", "kubernetesVersions.nyc3", "assetsBucket"}


def test_substitution_leaves_secrets_and_missing_paths_alone():
    value = {"a": ["x", "198.18.0.1"], "s": "[secret]"}
    entries: list[dict[str, Any]] = [
        {"path": ["a", 1], "from": ["u1"]},
        {"path": ["s"], "from": ["u1"]},
        {"path": ["gone", 3], "from": ["u1"]},
    ]
    assert substitute(value, entries, AFTER_DEPLOY) == {"a": ["x", AFTER_DEPLOY], "s": "[secret]"}
    assert substitute(value, entries, AFTER_DEPLOY, only_from=["u2"]) == value
    deployed = substitute(value, entries, Deployed)
    assert deployed == value and isinstance(deployed["a"][1], Deployed)
    assert as_text(deployed["a"]) == '["x", (deployed value)]'
    assert as_text({"address": AFTER_DEPLOY, "weight": 0}) == '{"address": (known after deploy), "weight": 0}'


def test_ops_plan_shows_them_as_known_after_deploy_and_the_json_as_unknown(capsys: pytest.CaptureFixture[str]):
    plan = plan_of("dev")
    gateway_address = next(r for r in plan.resources if r.name == "nyc3-gateway-gateway").outputs["status"]["addresses"][0][
        "value"
    ]
    assert main(["plan", "--stack", "dev", "--json", "--no-policy"]) == 0
    document = json.loads(capsys.readouterr().out)
    pool = next(r for r in document["resources"] if r["name"] == "nyc3-pool")
    assert pool["inputs"]["origins"][0]["address"] == "[unknown]" and pool["inputs"]["origins"][0]["weight"] == 1
    assert pool["knownAfterDeploy"][0]["path"] == ["origins", 0, "address"]
    assert document["outputs"]["origins"] == {"nyc3": "[unknown]"} and document["outputs"]["url"].startswith("https://")
    provider = next(r for r in document["resources"] if r["name"] == "nyc3-k8s")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert gateway_address not in json.dumps(document)
    # What `ops diff` asks of a base revision: the stand-ins, to compare by.
    assert main(["plan", "--stack", "dev", "--json", "--no-policy", "--mock-values"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert next(r for r in raw["resources"] if r["name"] == "nyc3-pool")["inputs"]["origins"][0]["address"] == gateway_address


def test_the_marks_of_secrets_and_unknowns_are_told_from_values():
    for mark in ("[secret]", "[secret:0123456789abcdef]"):
        assert is_secret(mark) and is_hidden(mark)
    assert is_hidden("[unknown]") and not is_secret("[unknown]")
    # Values that merely look alike are values.
    for value in ("[secret] and more", "[secrets]", "[secret:XYZ]", "secret", "", None, 7, ["[secret]"]):
        assert not is_secret(value) and not is_hidden(value), value
