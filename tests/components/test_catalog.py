"""The catalog namespace of a region: both workloads configured from the stack, their routes
on the regional gateway, and network policies that admit only what each needs. How each
workload itself is built: test_catalog_app.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.catalog import API_PATH
from components.catalog_app import HTTP_PORT, METRICS_PORT, app_labels
from components.gateway import GATEWAY_NAME
from components.namespaces import CATALOG_NAMESPACE, GATEWAY_NAMESPACE, PROXY_POD_LABELS
from components.settings.edge import HEALTH_PATH
from offline.engine import reveal
from offline.stack_config import stand_in
from ops.review.plan import plan_document, render_text
from tests.conftest import STACKS, plan_of
from tests.k8s_objects import config_of, metadata, objects, one, pod_spec, regions_of, spec

API_KEY = "marketplace:catalogApiKey"


@pytest.mark.parametrize("stack", ["dev", "dev-alice"])
def test_dev_stacks_without_a_key_run_anonymously_against_the_sandbox(stack: str) -> None:
    plan = plan_of(stack)
    data, deployment = config_of(plan, "nyc3", "api")
    assert data["CATALOG_ANONYMOUS"] == "true"
    assert "sandbox" in data["CATALOG_SERVICE_URL"]
    assert "CATALOG_API_KEY_FILE" not in data
    assert objects(plan, "nyc3", "Secret") == [one(plan, "nyc3", "Secret", "nyc3-gateway-origin-tls")]
    assert all("secret" not in volume for volume in pod_spec(deployment)["volumes"])


def test_a_dev_stack_may_set_a_key() -> None:
    plan = plan_of("dev-alice", overrides={API_KEY: {"secure": "v1:abc"}})
    data, _ = config_of(plan, "nyc3", "api")
    assert "CATALOG_ANONYMOUS" not in data
    assert reveal(one(plan, "nyc3", "Secret", "nyc3-catalog-api-credentials").inputs["stringData"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_key_never_appears_in_plain_text(stack: str) -> None:
    plan = plan_of(stack, overrides={API_KEY: {"secure": "v1:abc"}} if stack.startswith("dev") else None)
    secret = stand_in(API_KEY)
    assert secret in json.dumps(reveal([r.inputs for r in plan.resources]))  # the test can fail
    document = plan_document(plan)
    assert secret not in json.dumps(document)
    assert secret not in render_text(document)
    assert secret not in repr(plan)


@pytest.mark.usefixtures("commands_plan_from_cache")
def test_the_cli_prints_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from offline.stack_config import ROOT
    from ops.review.plan import run

    assert run(argparse.Namespace(stack="staging", json=True, manifests=None, root=ROOT)) == 0
    printed = capsys.readouterr()
    assert "nyc3-catalog-api-credentials" in printed.out
    assert stand_in(API_KEY) not in printed.out + printed.err


@pytest.mark.parametrize("stack", STACKS)
def test_the_namespace_denies_by_default_and_enforces_restricted_pods(stack: str) -> None:
    plan = plan_of(stack)
    for region in regions_of(plan):
        namespace = one(plan, region, "Namespace", CATALOG_NAMESPACE)
        assert metadata(namespace)["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        deny = spec(one(plan, region, "NetworkPolicy", "default-deny"))
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = spec(one(plan, region, "NetworkPolicy", "allow-dns"))
        (rule,) = dns["egress"]
        assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]
        assert sorted((port["protocol"], port["port"]) for port in rule["ports"]) == [
            ("TCP", 53),
            ("UDP", 53),
        ]
        policies = [p for p in objects(plan, region, "NetworkPolicy") if "marketplace:index:Catalog" in p.urn]
        assert all(metadata(p)["namespace"] == CATALOG_NAMESPACE for p in policies)
        assert len(policies) == 4


def _peer(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": labels},
    }


def test_only_the_gateway_reaches_the_front_end_and_only_the_api_is_reached_from_it() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        web = spec(one(plan, region, "NetworkPolicy", "catalog-web"))
        assert web["podSelector"] == {"matchLabels": app_labels("web")}
        assert web["policyTypes"] == ["Ingress", "Egress"]
        assert web["ingress"][0] == {
            "from": [_peer(GATEWAY_NAMESPACE, PROXY_POD_LABELS)],
            "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
        }
        assert web["egress"] == [
            {
                "to": [_peer(CATALOG_NAMESPACE, app_labels("api"))],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
            }
        ]


def test_the_api_is_reached_by_gateway_and_front_end_and_reaches_only_the_catalog_service_port() -> None:
    plan = plan_of("staging")
    api = spec(one(plan, "blr1", "NetworkPolicy", "catalog-api"))
    assert api["ingress"][0]["from"] == [
        _peer(GATEWAY_NAMESPACE, PROXY_POD_LABELS),
        _peer(CATALOG_NAMESPACE, app_labels("web")),
    ]
    (egress,) = api["egress"]
    assert egress["ports"] == [{"protocol": "TCP", "port": 443}]
    blocks = [peer["ipBlock"] for peer in egress["to"]]
    assert blocks[0]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16"} <= set(blocks[0]["except"])
    # The egress port follows the service URL.
    dev = plan_of("dev", overrides={"marketplace:catalogServiceUrl": "https://other-catalog.example.com:8443"})
    assert spec(one(dev, "nyc3", "NetworkPolicy", "catalog-api"))["egress"][0]["ports"] == [{"protocol": "TCP", "port": 8443}]


def test_prometheus_may_scrape_only_when_monitoring_is_on() -> None:
    scrape = {"protocol": "TCP", "port": METRICS_PORT}
    production = spec(one(plan_of("production"), "nyc3", "NetworkPolicy", "catalog-api"))
    assert any(scrape in rule["ports"] for rule in production["ingress"])
    dev = spec(one(plan_of("dev"), "nyc3", "NetworkPolicy", "catalog-api"))
    assert not any(scrape in rule["ports"] for rule in dev["ingress"])


@pytest.mark.parametrize("stack", STACKS)
def test_routes_send_the_catalog_hostname_to_web_and_api(stack: str) -> None:
    plan = plan_of(stack)
    hostname = plan.outputs["url"].removeprefix("https://")
    for region in regions_of(plan):
        routes = {metadata(r)["name"]: spec(r) for r in objects(plan, region, "HTTPRoute")}
        assert set(routes) == {"catalog-web", "catalog-api"}
        paths: dict[tuple[str, str], str] = {}
        for name, route in routes.items():
            assert route["hostnames"] == [hostname]
            (parent,) = route["parentRefs"]
            assert (parent["name"], parent["namespace"], parent["sectionName"]) == (
                GATEWAY_NAME,
                GATEWAY_NAMESPACE,
                "https",
            )
            for rule in route["rules"]:
                (backend,) = rule["backendRefs"]
                assert backend["name"] == name
                for match in rule["matches"]:
                    paths[(match["path"]["type"], match["path"]["value"])] = backend["name"]
        assert paths == {
            ("PathPrefix", "/"): "catalog-web",
            ("PathPrefix", API_PATH): "catalog-api",
            ("Exact", HEALTH_PATH): "catalog-api",
        }
        # The routes' namespace carries the label the Gateway admits routes from.
        namespace_labels = metadata(one(plan, region, "Namespace", CATALOG_NAMESPACE))["labels"]
        assert namespace_labels["marketplace/gateway"] == GATEWAY_NAME
