"""The regional gateway: Envoy Gateway, its CRDs, the Cloudflare-only load balancer and the
client-certificate requirement, on every cluster of every stack."""

from __future__ import annotations

from typing import Any, cast

import pulumi
import pytest

from components.gateway import (
    CONTROLLER_CHART,
    CRDS_CHART,
    DOKS_INSTALL_POLICY,
    ENVOY_GATEWAY_VERSION,
    GATEWAY_CLASS,
    GATEWAY_NAME,
    doks_external_crds,
)
from components.namespaces import GATEWAY_NAMESPACE as NAMESPACE
from components.regions import REGIONS
from offline.engine import Plan, SecretValue, reveal
from offline.mocks import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6, fake_ip
from tests.conftest import STACKS, plan_error, plan_of
from tests.k8s_objects import KUBERNETES_PROVIDER, NYC3_UPGRADING, metadata, objects, on_cluster, one, regions_of, spec


def test_every_cluster_of_every_stack_gets_one_gateway(stack_plan: Plan) -> None:
    gateways = stack_plan.of_type("marketplace:index:Gateway")
    regions = {stack_plan.region_of(g, REGIONS) for g in gateways}
    assert regions == set(regions_of(stack_plan))
    assert len(gateways) == len(regions)
    for gateway in gateways:
        parent = stack_plan.by_urn()[gateway.parent or ""]
        # Nested under its cluster, so the plan shows it there.
        assert parent.type == "marketplace:index:RegionalCluster"


def test_every_object_on_a_cluster_uses_that_clusters_explicit_provider(stack_plan: Plan) -> None:
    providers = {r.urn: r for r in stack_plan.of_type(KUBERNETES_PROVIDER)}
    checked = 0
    for region in regions_of(stack_plan):
        for resource in on_cluster(stack_plan, region):
            provider = providers.get(resource.provider_urn or "")
            assert provider is not None, f"{resource.name} has no explicit provider"
            assert stack_plan.region_of(provider, REGIONS) == region, f"{resource.name} uses {provider.name}"
            checked += 1
    assert checked >= 25 * len(regions_of(stack_plan))


def test_the_load_balancer_admits_only_cloudflare() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        service = spec(one(plan, region, "EnvoyProxy", "catalog-proxy"))["provider"]["kubernetes"]["envoyService"]
        # IPv4 only: an IPv6 rule leaves a DigitalOcean load balancer without any firewall.
        assert service["loadBalancerSourceRanges"] == list(CLOUDFLARE_IPV4)
        assert not set(service["loadBalancerSourceRanges"]) & set(CLOUDFLARE_IPV6)
        assert service["type"] == "LoadBalancer"
        assert service["externalTrafficPolicy"] == "Local"
        annotations = service["annotations"]
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-name"] == f"mkt-production-{region}-gateway"
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-size-unit"] == "2"
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-protocol"] == "tcp"
        # REGIONAL: its firewall is the source ranges; a network load balancer would have
        # the controller open the port on every worker to everyone.
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-type"] == "REGIONAL"
        assert "service.beta.kubernetes.io/do-loadbalancer-healthcheck-unhealthy-threshold" in annotations


def test_each_cluster_generation_names_its_own_load_balancer() -> None:
    """Two generations of a region never ask DigitalOcean's controller for one load balancer
    name: it would hand green the load balancer blue serves from."""
    plan = plan_of("production", overrides=NYC3_UPGRADING)
    names = {
        proxy.name: spec(proxy)["provider"]["kubernetes"]["envoyService"]["annotations"][
            "service.beta.kubernetes.io/do-loadbalancer-name"
        ]
        for proxy in plan.resources
        if proxy.type == "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
    }
    assert names["nyc3-gateway-proxy-config"] == "mkt-production-nyc3-gateway"
    assert names["nyc3-green-gateway-proxy-config"] == "mkt-production-nyc3-green-gateway"
    assert len(set(names.values())) == len(names) == 6


def test_load_balancer_size_and_proxy_count_follow_the_stack() -> None:
    plan = plan_of("dev", overrides={"marketplace:gateway": {"replicas": 2, "loadBalancerSizeUnit": 4}})
    kubernetes = spec(one(plan, "nyc3", "EnvoyProxy", "catalog-proxy"))["provider"]["kubernetes"]
    assert kubernetes["envoyService"]["annotations"]["service.beta.kubernetes.io/do-loadbalancer-size-unit"] == "4"
    assert kubernetes["envoyDeployment"]["replicas"] == 2
    assert kubernetes["envoyPDB"] == {"minAvailable": 1}
    single = spec(one(plan_of("dev"), "nyc3", "EnvoyProxy", "catalog-proxy"))["provider"]["kubernetes"]
    assert "envoyPDB" not in single


def test_the_gateway_terminates_tls_for_the_catalog_hostname_only(stack_plan: Plan) -> None:
    hostname = stack_plan.outputs["url"].removeprefix("https://")
    for region in regions_of(stack_plan):
        gateway = one(stack_plan, region, "Gateway", GATEWAY_NAME)
        assert metadata(gateway)["namespace"] == NAMESPACE
        (listener,) = spec(gateway)["listeners"]
        assert (listener["protocol"], listener["port"], listener["hostname"]) == ("HTTPS", 443, hostname)
        assert spec(gateway)["gatewayClassName"] == GATEWAY_CLASS
        (certificate_ref,) = listener["tls"]["certificateRefs"]
        secret = one(stack_plan, region, "Secret", certificate_ref["name"])
        assert secret.inputs["type"] == "kubernetes.io/tls"
        # The private key stays a secret end to end.
        assert isinstance(secret.inputs["stringData"], SecretValue)
        assert set(reveal(secret.inputs["stringData"])) == {"tls.crt", "tls.key"}
        assert "BEGIN PRIVATE KEY" in reveal(secret.inputs["stringData"])["tls.key"]
        assert listener["allowedRoutes"]["namespaces"]["from"] == "Selector"


def test_clients_must_present_a_certificate_signed_by_the_origin_pull_ca(stack_plan: Plan) -> None:
    for region in regions_of(stack_plan):
        policy = spec(one(stack_plan, region, "ClientTrafficPolicy", "require-origin-pull-certificate"))
        assert policy["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}]
        validation = policy["tls"]["clientValidation"]
        # `mode`, not the deprecated `optional` (a silent no-op when false).
        assert validation["mode"] == "RequireAndVerify" and "optional" not in validation
        (reference,) = validation["caCertificateRefs"]
        assert reference["kind"] == "ConfigMap"
        ca = one(stack_plan, region, "ConfigMap", reference["name"])
        assert metadata(ca)["namespace"] == NAMESPACE
        assert "BEGIN CERTIFICATE" in ca.inputs["data"]["ca.crt"]


def test_the_gateway_class_uses_envoy_gateway_and_the_proxy_config() -> None:
    plan = plan_of("staging")
    gateway_class = spec(one(plan, "fra1", "GatewayClass", GATEWAY_CLASS))
    assert gateway_class["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert gateway_class["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "catalog-proxy",
        "namespace": NAMESPACE,
    }


def test_public_ip_comes_from_the_gateway_status_per_stack_and_region() -> None:
    for stack in ("production", "staging"):
        plan = plan_of(stack)
        addresses = plan.outputs["origins"]
        assert set(addresses) == set(regions_of(plan))
        for region, address in addresses.items():
            assert address == fake_ip("gateway", stack, f"{region}-gateway-gateway")
        assert len(set(addresses.values())) == len(addresses)
    assert plan_of("production").outputs["origins"]["nyc3"] != addresses["nyc3"]
    gateway = one(plan_of("production"), "sgp1", "Gateway", GATEWAY_NAME)
    # `pulumi up` waits for the address before the edge reads it.
    assert metadata(gateway)["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.addresses[0].value}"


def test_envoy_gateway_and_its_crds_are_pinned_and_installed_once() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        charts = {r.name: r for r in on_cluster(plan, region) if r.type.startswith("kubernetes:helm.sh/")}
        crds = charts[f"{region}-gateway-crds"].inputs
        assert (crds["chart"], crds["version"]) == (CRDS_CHART, ENVOY_GATEWAY_VERSION)
        assert crds["values"]["crds"]["gatewayAPI"] == {"enabled": True, "channel": "standard"}
        controller = charts[f"{region}-gateway-controller"].inputs
        assert (controller["chart"], controller["version"]) == (CONTROLLER_CHART, ENVOY_GATEWAY_VERSION)
        assert controller["skipCrds"] is True
        assert controller["values"]["crds"] == {"enabled": False}
        assert controller["namespace"] == NAMESPACE


def test_only_the_crd_provider_may_adopt_and_force() -> None:
    plan = plan_of("production")
    providers = {r.name: r for r in plan.of_type(KUBERNETES_PROVIDER)}
    crd_provider = providers["nyc3-gateway-crd-k8s"].inputs
    assert (crd_provider["upsertExistingObjects"], crd_provider["enablePatchForce"]) == ("true", "true")
    assert "upsertExistingObjects" not in providers["nyc3-k8s"].inputs
    chart = next(r for r in on_cluster(plan, "nyc3") if r.type == "kubernetes:helm.sh/v4:Chart")
    assert chart.provider_urn == providers["nyc3-gateway-crd-k8s"].urn
    # Nothing but the CRD chart uses the adopting provider.
    users = [r.name for r in plan.resources if r.provider_urn == providers["nyc3-gateway-crd-k8s"].urn]
    assert users == [chart.name]


def _crd(group: str) -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(
        custom=True,
        type_="kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        name=f"crd-{group}",
        props={
            "metadata": {"name": f"gateways.{group}", "annotations": {"kept": "yes"}},
            "spec": {"group": group},
        },
        opts=pulumi.ResourceOptions(),
    )


def test_gateway_api_crds_are_marked_external_for_doks_and_kept_on_delete() -> None:
    result = doks_external_crds(_crd("gateway.networking.k8s.io"))
    assert result is not None
    annotations = cast(dict[str, Any], result.props)["metadata"]["annotations"]
    assert annotations == {"kept": "yes", DOKS_INSTALL_POLICY: "external"}
    assert result.opts.retain_on_delete is True


def test_envoy_crds_are_kept_but_not_annotated_and_other_objects_untouched() -> None:
    envoy = doks_external_crds(_crd("gateway.envoyproxy.io"))
    assert envoy is not None
    props = cast(dict[str, Any], envoy.props)
    assert DOKS_INSTALL_POLICY not in props["metadata"]["annotations"]
    assert envoy.opts.retain_on_delete is True
    other = pulumi.ResourceTransformArgs(
        custom=True, type_="kubernetes:core/v1:Namespace", name="ns", props={}, opts=pulumi.ResourceOptions()
    )
    assert doks_external_crds(other) is None


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_objects_sit_in_the_gateway_namespace(stack: str) -> None:
    plan = plan_of(stack)
    for region in regions_of(plan):
        for kind in ("Gateway", "EnvoyProxy", "ClientTrafficPolicy"):
            (resource,) = objects(plan, region, kind)
            assert metadata(resource)["namespace"] == NAMESPACE


@pytest.mark.parametrize("ipv4", [[], [CLOUDFLARE_IPV4[0], CLOUDFLARE_IPV6[0]]], ids=["none", "an IPv6 one"])
def test_no_gateway_without_ipv4_source_ranges(monkeypatch: pytest.MonkeyPatch, ipv4: list[str]) -> None:
    """Refused with one line, before anything is declared (the cluster included)."""
    import offline.mocks

    token = "cloudflare:index/getIpRanges:getIpRanges"
    answer = {"ipv4Cidrs": ipv4, "ipv6Cidrs": list(CLOUDFLARE_IPV6)}
    monkeypatch.setitem(offline.mocks.INVOKES, token, lambda args: answer)
    assert plan_error("dev-alice") == "a gateway needs IPv4 source ranges: none, or any IPv6 one, leaves it open"


def test_the_gateway_waits_for_the_client_certificate_policy() -> None:
    plan = plan_of("production")
    for region in regions_of(plan):
        gateway = one(plan, region, "Gateway", GATEWAY_NAME)
        policy = one(plan, region, "ClientTrafficPolicy", "require-origin-pull-certificate")
        assert policy.urn in gateway.dependencies
