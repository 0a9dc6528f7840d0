"""The catalog workloads: hardened the same way on every cluster of every stack, sized by
the stack, configured from it, and fenced by network policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.catalog import (
    API_PATH,
    HEALTH_PATH,
    HTTP_PORT,
    METRICS_PORT,
    app_labels,
    config_checksum,
)
from components.gateway import GATEWAY_NAME
from components.namespaces import CATALOG_NAMESPACE, GATEWAY_NAMESPACE, PROXY_POD_LABELS
from components.settings.workloads import APP_DEFAULTS
from offline.engine import Plan, SecretValue, reveal
from offline.stack_config import stand_in
from ops.review.plan import plan_document, render_text
from tests.conftest import STACKS, plan_of
from tests.k8s_objects import metadata, objects, one, pod_spec, regions_of, spec

ROLES = ("web", "api")
API_KEY = "marketplace:catalogApiKey"


def workload_cases() -> list[tuple[str, str]]:
    return [(stack, role) for stack in STACKS for role in ROLES]


@pytest.mark.parametrize(("stack", "role"), workload_cases())
def test_every_workload_is_hardened_in_every_region(stack: str, role: str) -> None:
    plan = plan_of(stack)
    regions = regions_of(plan)
    assert regions
    for region in regions:
        deployment = one(plan, region, "Deployment", f"catalog-{role}")
        pod = pod_spec(deployment)
        assert metadata(deployment)["namespace"] == CATALOG_NAMESPACE
        assert pod["automountServiceAccountToken"] is False
        account = one(plan, region, "ServiceAccount", pod["serviceAccountName"])
        assert account.inputs["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] == f"catalog-{role}"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] >= 10000
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["privileged"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] == "http"
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        # Pinned: a tag other than latest, or a digest.
        image = container["image"]
        assert "@sha256:" in image or (":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"))
        (spread,) = pod["topologySpreadConstraints"]
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        assert spread["labelSelector"] == {"matchLabels": app_labels(role)}
        strategy = deployment.inputs["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0
        # The autoscaler owns the replica count.
        assert "replicas" not in deployment.inputs["spec"]


@pytest.mark.parametrize("stack", STACKS)
def test_replicas_and_resources_come_from_the_stack_kind(stack: str) -> None:
    plan = plan_of(stack)
    kind = "dev" if stack.startswith("dev") else stack
    for region in regions_of(plan):
        for role in ROLES:
            defaults = APP_DEFAULTS[kind][role]
            autoscaler = spec(one(plan, region, "HorizontalPodAutoscaler", f"catalog-{role}"))
            assert (autoscaler["minReplicas"], autoscaler["maxReplicas"]) == (
                defaults["replicas"],
                defaults["maxReplicas"],
            )
            assert autoscaler["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"catalog-{role}",
            }
            (container,) = pod_spec(one(plan, region, "Deployment", f"catalog-{role}"))["containers"]
            assert container["resources"] == {
                "requests": {"cpu": defaults["cpuRequest"], "memory": defaults["memoryRequest"]},
                "limits": {"cpu": defaults["cpuLimit"], "memory": defaults["memoryLimit"]},
            }
            budget = spec(one(plan, region, "PodDisruptionBudget", f"catalog-{role}"))
            assert budget["maxUnavailable"] == 1
            assert budget["selector"] == {"matchLabels": app_labels(role)}


def test_dev_is_smaller_than_production() -> None:
    dev = spec(one(plan_of("dev"), "nyc3", "HorizontalPodAutoscaler", "catalog-api"))
    production = spec(one(plan_of("production"), "nyc3", "HorizontalPodAutoscaler", "catalog-api"))
    assert dev["minReplicas"] < production["minReplicas"]
    assert dev["maxReplicas"] < production["maxReplicas"]


def test_a_stack_sets_its_images_and_sizes() -> None:
    image = "ghcr.io/acme/catalog-api@sha256:" + "b" * 64
    plan = plan_of(
        "dev",
        overrides={
            "marketplace:images": {"api": image},
            "marketplace:workloads": {"api": {"replicas": 2, "maxReplicas": 5, "memoryLimit": "1Gi"}},
        },
    )
    (container,) = pod_spec(one(plan, "nyc3", "Deployment", "catalog-api"))["containers"]
    assert container["image"] == image
    assert container["resources"]["limits"]["memory"] == "1Gi"
    autoscaler = spec(one(plan, "nyc3", "HorizontalPodAutoscaler", "catalog-api"))
    assert (autoscaler["minReplicas"], autoscaler["maxReplicas"]) == (2, 5)


def _config_of(plan: Plan, region: str, role: str) -> tuple[dict[str, str], Any]:
    deployment = one(plan, region, "Deployment", f"catalog-{role}")
    (container,) = pod_spec(deployment)["containers"]
    (source,) = container["envFrom"]
    config_map = one(plan, region, "ConfigMap", source["configMapRef"]["name"])
    return config_map.inputs["data"], deployment


@pytest.mark.parametrize("stack", STACKS)
def test_the_environment_comes_from_a_config_map_whose_hash_rolls_the_pods(stack: str) -> None:
    plan = plan_of(stack)
    hostname = plan.outputs["url"].removeprefix("https://")
    for region in regions_of(plan):
        for role in ROLES:
            data, deployment = _config_of(plan, region, role)
            assert data["MARKETPLACE_REGION"] == region
            assert data["PUBLIC_URL"] == f"https://{hostname}"
            annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
            assert annotations["checksum/config"] == config_checksum(data)


def test_a_config_change_changes_the_pod_template() -> None:
    before, _ = _config_of(plan_of("dev"), "nyc3", "api")
    url = "https://other-catalog.example.com:8443"
    after, deployment = _config_of(plan_of("dev", overrides={"marketplace:catalogServiceUrl": url}), "nyc3", "api")
    assert after["CATALOG_SERVICE_URL"] == url
    checksum = deployment.inputs["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert checksum == config_checksum(after) != config_checksum(before)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_api_key_is_a_secret_mounted_as_a_file(stack: str) -> None:
    plan = plan_of(stack)
    for region in regions_of(plan):
        data, deployment = _config_of(plan, region, "api")
        pod = pod_spec(deployment)
        (volume,) = [v for v in pod["volumes"] if "secret" in v]
        secret = one(plan, region, "Secret", volume["secret"]["secretName"])
        assert isinstance(secret.inputs["stringData"], SecretValue)
        assert reveal(secret.inputs["stringData"]) == {"api-key": stand_in(API_KEY)}
        assert volume["secret"]["defaultMode"] == 0o400
        (container,) = pod["containers"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
        assert mount["readOnly"] is True
        assert data["CATALOG_API_KEY_FILE"] == f"{mount['mountPath']}/api-key"
        # Never in the environment.
        assert stand_in(API_KEY) not in json.dumps(reveal(deployment.inputs))
        assert "env" not in container


@pytest.mark.parametrize("stack", ["dev", "dev-alice"])
def test_dev_stacks_without_a_key_run_anonymously_against_the_sandbox(stack: str) -> None:
    plan = plan_of(stack)
    data, deployment = _config_of(plan, "nyc3", "api")
    assert data["CATALOG_ANONYMOUS"] == "true"
    assert "sandbox" in data["CATALOG_SERVICE_URL"]
    assert "CATALOG_API_KEY_FILE" not in data
    assert objects(plan, "nyc3", "Secret") == [one(plan, "nyc3", "Secret", "nyc3-gateway-origin-tls")]
    assert all("secret" not in volume for volume in pod_spec(deployment)["volumes"])


def test_a_dev_stack_may_set_a_key() -> None:
    plan = plan_of("dev-alice", overrides={API_KEY: {"secure": "v1:abc"}})
    data, _ = _config_of(plan, "nyc3", "api")
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


def test_services_expose_http_and_metrics_by_name() -> None:
    plan = plan_of("dev-alice")
    for role in ROLES:
        service = spec(one(plan, "nyc3", "Service", f"catalog-{role}"))
        assert service["type"] == "ClusterIP"
        assert service["selector"] == app_labels(role)
        assert {(p["name"], p["targetPort"]) for p in service["ports"]} == {
            ("http", "http"),
            ("metrics", "metrics"),
        }
