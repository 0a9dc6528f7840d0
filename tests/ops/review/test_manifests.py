"""The manifests `ops plan --manifests` writes: valid for the cluster's Kubernetes version,
the same in every region, and free of secrets."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.gateway import ENVOY_GATEWAY_VERSION
from offline.engine import Plan, PlannedResource, SecretValue
from offline.stack_config import stand_in
from ops.review.manifests import (
    RELEASES_FILE,
    SECRET_PLACEHOLDER,
    SECRET_PLACEHOLDER_B64,
    is_manifest,
    manifest,
    write_manifests,
)
from tests.conftest import STACKS, plan_of
from tests.k8s_objects import regions_of

# Every stack here sets the catalog API key (dev kinds through an override), so that the
# check for leaks has a secret to look for.
KEYED = {"marketplace:catalogApiKey": {"secure": "v1:abc"}}
SECRETS = (stand_in("marketplace:catalogApiKey"), stand_in("digitalocean:token"))


def plan_for(stack: str) -> Plan:
    return plan_of(stack, overrides=KEYED if stack.startswith("dev") else None)


_written: dict[str, Path] = {}


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each stack's manifests, written once for the module."""
    if not _written:
        for stack in STACKS:
            directory = tmp_path_factory.mktemp(stack)
            write_manifests(plan_for(stack), directory)
            _written[stack] = directory
    return _written


def documents(directory: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(directory.glob("*/*.yaml")):
        if path.name != RELEASES_FILE:
            (document,) = yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader)
            yield path, document


def minor_version(plan: Plan) -> str:
    return plan.config.values["marketplace:kubernetesVersion"]


# Required fields of the custom kinds, from the pinned CRDs (Gateway API v1.6.1, Envoy
# Gateway v1.9, prometheus-operator): the OpenAPI schemas kubernetes-validate ships know
# only built-in kinds. "[]" steps into every item of a list.
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("gateway.networking.k8s.io/v1", "GatewayClass"): (
        "spec.controllerName",
        "spec.parametersRef.group", "spec.parametersRef.kind", "spec.parametersRef.name",
    ),
    ("gateway.networking.k8s.io/v1", "Gateway"): (
        "spec.gatewayClassName",
        "spec.listeners[].name", "spec.listeners[].port", "spec.listeners[].protocol",
        "spec.listeners[].tls.certificateRefs[].name",
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): (
        "spec.parentRefs[].name", "spec.rules[].backendRefs[].name", "spec.rules[].matches[].path.value",
    ),
    ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"): ("spec.provider.type",),
    ("gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy"): (
        "spec.targetRefs[].group", "spec.targetRefs[].kind", "spec.targetRefs[].name",
        "spec.tls.clientValidation.caCertificateRefs[].name",
    ),
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("spec.selector", "spec.endpoints[].port"),
    ("monitoring.coreos.com/v1", "PodMonitor"): ("spec.selector", "spec.podMetricsEndpoints[].port"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): ("spec.groups[].name", "spec.groups[].rules[].expr"),
}  # fmt: skip
CLUSTER_SCOPED = {"Namespace", "GatewayClass"}
ENUMS = {
    "spec.listeners[].protocol": {"HTTP", "HTTPS", "TLS", "TCP", "UDP"},
    "spec.rules[].matches[].path.type": {"Exact", "PathPrefix", "RegularExpression"},
    "spec.provider.type": {"Kubernetes"},
}


def values_at(document: Any, path: str) -> list[Any]:
    """Every value at a dotted path ("[]" = each list item); a missing step yields nothing."""
    found = [document]
    for step in path.split("."):
        each = step.endswith("[]")
        key = step.removesuffix("[]")
        found = [item[key] for item in found if isinstance(item, dict) and key in item]
        if each:
            found = [element for item in found if isinstance(item, list) for element in item]
    return found


def custom_kind_problems(document: dict[str, Any]) -> list[str]:
    key = (document["apiVersion"], document["kind"])
    if key not in REQUIRED:
        return [f"no schema and no required-field table for {key}"]
    problems = []
    for path in REQUIRED[key]:
        parent, _, field_name = path.rpartition(".")
        items = values_at(document, parent)
        if not items:
            problems.append(f"{parent} is missing")
        problems += [f"{path} is missing" for item in items if not (isinstance(item, dict) and field_name in item)]
    for path, allowed in ENUMS.items():
        problems += [f"{path} is {value!r}" for value in values_at(document, path) if value not in allowed]
    problems += [f"port {port} out of range" for port in values_at(document, "spec.listeners[].port") if not 0 < port < 65536]
    return problems


def validate(document: dict[str, Any], version: str) -> list[str]:
    metadata = document.get("metadata") or {}
    problems = [] if metadata.get("name") else ["metadata.name is missing"]
    if document["kind"] not in CLUSTER_SCOPED and not metadata.get("namespace"):
        problems.append("metadata.namespace is missing")
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        problems += custom_kind_problems(document)
    except kubernetes_validate.ValidationError as error:
        problems.append(f"{'.'.join(map(str, error.path))}: {error.message}")
    return problems


@pytest.mark.parametrize("stack", STACKS)
def test_every_manifest_is_valid_for_the_clusters_kubernetes_version(stack: str, manifests: dict[str, Path]) -> None:
    version = minor_version(plan_for(stack))
    # Identical objects (other regions) are validated once: the suite stays fast.
    seen: set[str] = set()
    kinds: set[str] = set()
    for path, document in documents(manifests[stack]):
        text = json.dumps(document, sort_keys=True)
        if text in seen:
            continue
        seen.add(text)
        kinds.add(document["kind"])
        problems = validate(document, version)
        assert not problems, f"{path.relative_to(manifests[stack])}: {problems}"
    expected = {
        "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
        "Gateway", "HTTPRoute", "ClientTrafficPolicy", "EnvoyProxy", "Secret", "ConfigMap",
    }  # fmt: skip
    assert expected <= kinds


def test_strict_validation_catches_a_misspelled_field(manifests: dict[str, Path]) -> None:
    deployment = yaml.safe_load((manifests["dev"] / "nyc3" / "catalog.deployment.catalog-web.yaml").read_text())
    assert validate(deployment, "1.33") == []
    misspelled = copy.deepcopy(deployment)
    misspelled["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    assert validate(misspelled, "1.33")
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["minReadySeconds"] = "5"
    assert validate(wrong_type, "1.33")


def test_the_custom_kind_checks_can_fail(manifests: dict[str, Path]) -> None:
    gateway = yaml.safe_load((manifests["dev"] / "nyc3" / "envoy-gateway-system.gateway.catalog.yaml").read_text())
    assert custom_kind_problems(gateway) == []
    del gateway["spec"]["listeners"][0]["protocol"]
    assert custom_kind_problems(gateway) == ["spec.listeners[].protocol is missing"]
    route = yaml.safe_load((manifests["dev"] / "nyc3" / "catalog.httproute.catalog-web.yaml").read_text())
    route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
    assert custom_kind_problems(route) == ["spec.rules[].matches[].path.type is 'Prefix'"]
    assert custom_kind_problems({"apiVersion": "example.com/v1", "kind": "Widget"})


@pytest.mark.parametrize("stack", STACKS)
def test_one_folder_per_cluster_with_every_object_and_the_releases(stack: str, manifests: dict[str, Path]) -> None:
    plan = plan_for(stack)
    directory = manifests[stack]
    assert sorted(p.name for p in directory.iterdir()) == sorted(regions_of(plan))
    files = list(directory.glob("*/*.yaml"))
    assert len(files) == sum(is_manifest(r) for r in plan.resources) + len(regions_of(plan))
    for region in regions_of(plan):
        (document,) = yaml.safe_load_all((directory / region / RELEASES_FILE).read_text())
        charts = {entry["chart"]: entry for entry in document["releases"]}
        crds = charts["oci://docker.io/envoyproxy/gateway-crds-helm"]
        assert crds["version"] == ENVOY_GATEWAY_VERSION
        assert crds["values"]["crds"]["gatewayAPI"]["channel"] == "standard"
        assert charts["oci://docker.io/envoyproxy/gateway-helm"]["namespace"] == "envoy-gateway-system"
    # Providers and charts are not objects of the cluster.
    kinds = {document["kind"] for _, document in documents(directory)}
    assert not kinds & {"Release", "Chart", "Provider"}


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_reaches_a_file(stack: str, manifests: dict[str, Path]) -> None:
    text = "\n".join(path.read_text() for path in manifests[stack].glob("*/*.yaml"))
    assert "catalog-api-credentials" in text
    for secret in SECRETS:
        assert secret not in text
    for path, document in documents(manifests[stack]):
        if document["kind"] == "Secret":
            assert set(document["stringData"].values()) == {SECRET_PLACEHOLDER}, path


def test_secret_data_keeps_its_keys_with_a_base64_placeholder() -> None:
    resource = PlannedResource(
        urn="urn:pulumi:dev::marketplace::kubernetes:core/v1:Secret::nyc3-example",
        id="nyc3-example-id",
        type="kubernetes:core/v1:Secret",
        name="nyc3-example", parent=None, custom=True, provider=None,
        inputs={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "example", "namespace": "catalog"},
                "data": SecretValue({"token": "c2VjcmV0"}), "stringData": {"plain": SecretValue("hunter2")}},
        outputs={}, dependencies=[], property_dependencies={}, protect=False, retain_on_delete=False,
        ignore_changes=[], aliases=[],
    )  # fmt: skip
    document = manifest(resource)
    assert document["data"] == {"token": SECRET_PLACEHOLDER_B64}
    assert document["stringData"] == {"plain": SECRET_PLACEHOLDER}
    assert validate(document, "1.33") == []
    assert "hunter2" not in json.dumps(document)


def test_numbers_stay_numbers(manifests: dict[str, Path]) -> None:
    service = yaml.safe_load((manifests["staging"] / "fra1" / "catalog.service.catalog-api.yaml").read_text())
    assert [port["port"] for port in service["spec"]["ports"]] == [80, 9090]
    budget = yaml.safe_load((manifests["staging"] / "fra1" / "catalog.poddisruptionbudget.catalog-api.yaml").read_text())
    assert budget["spec"]["maxUnavailable"] == 1


def normalized(text: str, region: str) -> str:
    """What may differ between regions: the region's name, auto-name suffixes (derived
    from it) and the config hash (over the region's name)."""
    text = re.sub(rf"\b{region}\b", "<region>", text)
    text = re.sub(r"-[0-9a-f]{8}\b", "-<auto>", text)
    return re.sub(r"checksum/config: [0-9a-f]{64}", "checksum/config: <hash>", text)


# What only the hub cluster holds (the stack's Grafana and its data, the log retention Job),
# and what only the others hold (their Prometheus on an internal load balancer).
HUB_ONLY = {
    "monitoring.configmap.marketplace-datasources.yaml",
    "monitoring.configmap.marketplace-dashboards.yaml",
    *(
        f"logging.{kind}.<region>-logs-retention{part}-<auto>.yaml"
        for kind, part in (("job", ""), ("configmap", "-script"), ("secret", "-credentials"))
    ),
}
SPOKE_ONLY = {"monitoring.service.prometheus-internal.yaml"}


def test_all_production_regions_declare_the_same_objects(manifests: dict[str, Path]) -> None:
    directory = manifests["production"]
    regions = regions_of(plan_for("production"))
    assert len(regions) == 5
    clusters = {
        region: {
            normalized(path.name, region): normalized(path.read_text(), region)
            for path in sorted((directory / region).glob("*.yaml"))
        }
        for region in regions
    }
    hub = "nyc3"
    assert clusters[hub].keys() - clusters["fra1"].keys() == HUB_ONLY
    assert clusters["fra1"].keys() - clusters[hub].keys() == SPOKE_ONLY
    for name in HUB_ONLY:
        del clusters[hub][name]
    for region in set(regions) - {hub}:
        for name in SPOKE_ONLY:
            del clusters[region][name]
    reference = clusters[regions[0]]
    assert len(reference) > 30
    for region in regions[1:]:
        assert clusters[region].keys() == reference.keys(), region
        for name, text in clusters[region].items():
            if region == hub and name == RELEASES_FILE:
                continue  # Grafana's chart values and the log store's private host: tests/components/test_pane.py, test_logs.py
            assert text == reference[name], f"{region}/{name} differs from {regions[0]}"
    # ...and the differences normalized away are real ones.
    raw = {region: (directory / region / RELEASES_FILE).read_text() for region in regions}
    assert len(set(raw.values())) == 5


def test_writing_again_replaces_the_files(tmp_path: Path) -> None:
    plan = plan_for("dev")
    stale = tmp_path / "nyc3" / "catalog.deployment.gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Deployment\n")
    first = {path: path.read_text() for path in write_manifests(plan, tmp_path)}
    assert not stale.exists()
    second = {path: path.read_text() for path in write_manifests(plan, tmp_path)}
    assert first == second
