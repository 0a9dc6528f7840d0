"""A catalog workload (components/catalog_app.py): hardened the same way on every cluster of
every stack, sized by the stack, rolled when its configuration changes, its API key a file."""

from __future__ import annotations

import json

import pytest

from components.catalog_app import app_labels, config_checksum
from components.namespaces import CATALOG_NAMESPACE
from components.settings.workloads import APP_DEFAULTS
from offline.engine import SecretValue, reveal
from offline.stack_config import stand_in
from tests.conftest import STACKS, plan_of
from tests.k8s_objects import config_of, metadata, one, pod_spec, regions_of, spec

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


@pytest.mark.parametrize("stack", STACKS)
def test_the_environment_comes_from_a_config_map_whose_hash_rolls_the_pods(stack: str) -> None:
    plan = plan_of(stack)
    hostname = plan.outputs["url"].removeprefix("https://")
    for region in regions_of(plan):
        for role in ROLES:
            data, deployment = config_of(plan, region, role)
            assert data["MARKETPLACE_REGION"] == region
            assert data["PUBLIC_URL"] == f"https://{hostname}"
            annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
            assert annotations["checksum/config"] == config_checksum(data)


def test_a_config_change_changes_the_pod_template() -> None:
    before, _ = config_of(plan_of("dev"), "nyc3", "api")
    url = "https://other-catalog.example.com:8443"
    after, deployment = config_of(plan_of("dev", overrides={"marketplace:catalogServiceUrl": url}), "nyc3", "api")
    assert after["CATALOG_SERVICE_URL"] == url
    checksum = deployment.inputs["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert checksum == config_checksum(after) != config_checksum(before)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_api_key_is_a_secret_mounted_as_a_file(stack: str) -> None:
    plan = plan_of(stack)
    for region in regions_of(plan):
        data, deployment = config_of(plan, region, "api")
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
