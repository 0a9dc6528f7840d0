"""The Cloudflare edge in whole-stack plans: pools wired to their own region's origin, the
load balancer across them, failover settings, TLS end to end, and secrets kept secret."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from components.edge import ORIGIN_PULL_CA_FILE, OriginCertificate, cloudflare_origin_pull_ca
from components.regions import REGIONS, nearest_cloudflare_regions
from components.settings import parse_settings
from offline.engine import Plan, PlannedResource, SecretValue, reveal
from offline.stack_config import load_stack_config
from ops.review.plan import plan_document, render_text
from tests.conftest import plan_of

MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
ZONE_LEVEL_PULLS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
ORIGIN_CA = "cloudflare:index/originCaCertificate:OriginCaCertificate"
CERTIFICATE_PACK = "cloudflare:index/certificatePack:CertificatePack"
NOTIFICATION = "cloudflare:index/notificationPolicy:NotificationPolicy"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
DOKS = "digitalocean:index/kubernetesCluster:KubernetesCluster"

ALL = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")
# SHA-256 of the DER of Cloudflare's origin-pull CA (CN=origin-pull.cloudflare.net, to
# 2029-11-01), as Cloudflare publishes it.
ORIGIN_PULL_CA_SHA256 = "9a1ac2b4be15f9f27eee20a734cba4e9898f61001b3bd7c84b69b56a3e25a2b9"


def pools_of(plan: Plan) -> dict[str, PlannedResource]:
    return {pool.name.removesuffix("-pool"): pool for pool in plan.of_type(POOL)}


def only(plan: Plan, type_: str) -> PlannedResource:
    found = plan.of_type(type_)
    assert len(found) == 1, f"{len(found)} resources of type {type_}"
    return found[0]


def cluster_address(plan: Plan, region: str) -> str:
    """The address of the region's gateway, as its Gateway object reports it."""
    gateway = plan.one("kubernetes:gateway.networking.k8s.io/v1:Gateway", f"{region}-gateway-gateway")
    address: str = gateway.outputs["status"]["addresses"][0]["value"]
    return address


def origin_of(pool: PlannedResource) -> dict[str, Any]:
    (origin,) = pool.inputs["origins"]
    return dict(origin)


# Production: five pools, each on its own region's origin --------------------------------


def test_production_has_one_pool_per_region_on_that_regions_origin() -> None:
    plan = plan_of("production")
    pools = pools_of(plan)
    assert sorted(pools) == sorted(ALL)
    origins = plan.outputs["origins"]
    assert set(origins) == set(ALL)
    # Every address is a different cluster's: a pool on another region's origin would
    # still look valid, so each is checked against its own region's cluster.
    assert len(set(origins.values())) == len(ALL)
    for region, pool in pools.items():
        origin = origin_of(pool)
        assert origin["address"] == origins[region] == cluster_address(plan, region)
        assert origin["name"] == region
        assert origin["header"] == {"hosts": ["catalog.example.com"]}
        assert origin["enabled"] is True
        assert pool.inputs["name"] == f"mkt-production-{region}"
        assert pool.inputs["minimumOrigins"] == 1
        assert pool.inputs["checkRegions"] == list(nearest_cloudflare_regions(region, 3))
        assert (pool.inputs["latitude"], pool.inputs["longitude"]) == (
            REGIONS[region].latitude,
            REGIONS[region].longitude,
        )
        # The pool is attributed to its region in the plan (keyed by slug, not position).
        assert plan.region_of(pool, REGIONS) == region


def test_every_pool_is_monitored_by_the_health_monitor() -> None:
    plan = plan_of("production")
    monitor = only(plan, MONITOR)
    # Exported for the failover drill's monitor preview.
    assert plan.outputs["healthMonitor"] == monitor.id
    assert plan_of("dev-alice").outputs.get("healthMonitor") is None
    monitor_ids = {pool.inputs["monitor"] for pool in plan.of_type(POOL)}
    assert len(monitor_ids) == 1 and monitor_ids != {""}
    for pool in plan.of_type(POOL):
        assert pool.property_dependencies["monitor"] == [monitor.urn]


def test_monitor_probes_the_health_endpoint_over_https_as_the_catalog() -> None:
    inputs = only(plan_of("production"), MONITOR).inputs
    assert inputs["type"] == "https"
    assert inputs["method"] == "GET"
    assert inputs["path"] == "/healthz"
    assert inputs["header"] == {"Host": ["catalog.example.com"]}
    assert inputs["expectedCodes"] == "200"
    assert (inputs["interval"], inputs["timeout"], inputs["retries"]) == (60, 5, 2)
    assert (inputs["consecutiveUp"], inputs["consecutiveDown"]) == (2, 2)
    # The gateways' Origin CA certificate is not publicly trusted: a validating probe
    # would mark every pool down (docs/edge.md, "The monitor and the origin certificate").
    assert inputs["allowInsecure"] is True
    # Probes go out with the zone's settings, so they carry the origin-pull certificate.
    assert inputs["probeZone"] == "example.com"
    assert inputs["accountId"] == "0123456789abcdef0123456789abcdef"


def test_load_balancer_steers_by_proximity_across_every_pool_on_a_pro_plan() -> None:
    plan = plan_of("production")
    lb = only(plan, LOAD_BALANCER)
    pools = pools_of(plan)
    pool_ids = plan.outputs["pools"]
    assert lb.inputs["name"] == "catalog.example.com"
    assert lb.inputs["zoneId"] == "fedcba9876543210fedcba9876543210"
    assert lb.inputs["proxied"] is True
    # Pro (the project default) has no ALL_REGIONS checks: steering by the pools'
    # coordinates needs no round-trip data (tests/components/test_edge_steering.py).
    assert lb.inputs["steeringPolicy"] == "proximity"
    assert lb.inputs["sessionAffinity"] == "none"
    assert lb.inputs["adaptiveRouting"] == {"failoverAcrossPools": True}
    assert "regionPools" not in lb.inputs
    # Pool ids, in the stack's region order (the failover order), each a pool of this plan.
    assert lb.inputs["defaultPools"] == [pool_ids[region] for region in ALL]
    assert sorted(lb.property_dependencies["defaultPools"]) == sorted(pool.urn for pool in pools.values())
    assert lb.inputs["fallbackPool"] == pool_ids["sfo3"]
    assert lb.property_dependencies["fallbackPool"] == [pools["sfo3"].urn]


def test_production_load_balancer_is_protected_and_other_stacks_are_not() -> None:
    assert only(plan_of("production"), LOAD_BALANCER).protect
    assert not only(plan_of("staging"), LOAD_BALANCER).protect


def test_no_dns_record_points_at_a_single_cluster_where_there_is_a_load_balancer() -> None:
    for stack in ("production", "staging", "dev"):
        assert plan_of(stack).of_type(RECORD) == []


# Regions come and go -------------------------------------------------------------------


@pytest.mark.parametrize(("removed", "fallback"), [("blr1", "sfo3"), ("sfo3", "nyc3")])
def test_removing_a_region_removes_its_cluster_pool_and_origin(removed: str, fallback: str) -> None:
    kept = [region for region in ALL if region != removed]
    plan = plan_of("production", overrides={"marketplace:regions": kept})
    assert not [r for r in plan.resources if r.name.startswith(f"{removed}-")]
    assert sorted(pools_of(plan)) == sorted(kept)
    assert sorted(plan.outputs["origins"]) == sorted(kept)
    pool_ids = plan.outputs["pools"]
    lb = only(plan, LOAD_BALANCER)
    assert lb.inputs["defaultPools"] == [pool_ids[region] for region in kept]
    # The fallback follows the first region when it was the removed one.
    assert lb.inputs["fallbackPool"] == pool_ids[fallback]
    # Kept regions keep their logical names, so nothing else is replaced.
    assert {pool.name for pool in plan.of_type(POOL)} == {f"{region}-pool" for region in kept}


def test_fallback_region_is_configurable() -> None:
    plan = plan_of("production", overrides={"marketplace:fallbackRegion": "fra1"})
    assert only(plan, LOAD_BALANCER).inputs["fallbackPool"] == plan.outputs["pools"]["fra1"]


def test_a_drained_region_keeps_its_pool_disabled() -> None:
    plan = plan_of("production", overrides={"marketplace:drainedRegions": ["fra1"]})
    assert {region: pool.inputs["enabled"] for region, pool in pools_of(plan).items()} == {
        region: region != "fra1" for region in ALL
    }
    # Still listed: re-enabling it is a one-line config change, not a new pool.
    assert only(plan, LOAD_BALANCER).inputs["defaultPools"] == [plan.outputs["pools"][r] for r in ALL]


def test_geo_steering_maps_cloudflare_regions_to_pools_and_alerts_go_to_the_notification_service() -> None:
    plan = plan_of(
        "production",
        overrides={"marketplace:steeringPolicy": "geo", "marketplace:notificationEmail": "ops@example.com"},
    )
    pool_ids = plan.outputs["pools"]
    lb = only(plan, LOAD_BALANCER)
    assert lb.inputs["steeringPolicy"] == "geo"
    # Every Cloudflare region lists every pool, nearest first (Paris: Frankfurt, New York, ...).
    assert lb.inputs["regionPools"]["WEU"] == [pool_ids[r] for r in ("fra1", "nyc3", "blr1", "sfo3", "sgp1")]
    assert len(lb.inputs["regionPools"]) == 13

    policy = only(plan, NOTIFICATION)
    assert policy.inputs["alertType"] == "load_balancing_health_alert"
    assert policy.inputs["mechanisms"] == {"emails": [{"id": "ops@example.com"}]}
    # Pool events only, leaving and rejoining (the SDK's filter names are plural).
    assert policy.inputs["filters"] == {
        "poolIds": [pool_ids[region] for region in ALL],
        "eventSources": ["pool"],
        "newHealths": ["Unhealthy", "Healthy"],
    }
    # The pools' own (deprecated) notification_email stays unset.
    assert all("notificationEmail" not in pool.inputs for pool in plan.of_type(POOL))


def test_no_notification_policy_without_an_email() -> None:
    assert plan_of("production").of_type(NOTIFICATION) == []


# Which stacks get a load balancer --------------------------------------------------------


@pytest.mark.parametrize("stack", ["production", "staging", "dev"])
def test_shared_stacks_have_the_full_load_balancer(stack: str) -> None:
    plan = plan_of(stack)
    regions = plan.outputs["origins"].keys()
    assert len(plan.of_type(LOAD_BALANCER)) == 1
    assert len(plan.of_type(MONITOR)) == 1
    assert sorted(pools_of(plan)) == sorted(regions)


def test_personal_stack_gets_a_proxied_record_to_its_one_cluster_and_no_load_balancer() -> None:
    plan = plan_of("dev-alice")
    for type_ in (LOAD_BALANCER, POOL, MONITOR, NOTIFICATION):
        assert plan.of_type(type_) == [], type_
    record = only(plan, RECORD)
    assert record.inputs["name"] == "alice.dev.catalog.example.com"
    assert record.inputs["type"] == "A"
    assert record.inputs["proxied"] is True
    assert record.inputs["ttl"] == 1
    assert record.inputs["content"] == plan.outputs["origins"]["nyc3"] == cluster_address(plan, "nyc3")
    assert plan.outputs["pools"] == {}
    assert plan.outputs["url"] == "https://alice.dev.catalog.example.com"


# TLS end to end ------------------------------------------------------------------------


def test_zone_tls_is_strict_with_authenticated_origin_pulls_in_the_zone_stack() -> None:
    plan = plan_of("zone")
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in plan.of_type(ZONE_SETTING)}
    assert settings == {
        "ssl": "strict",
        "tls_client_auth": "on",
        "always_use_https": "on",
        "min_tls_version": "1.2",
    }
    assert all(r.inputs["zoneId"] == "fedcba9876543210fedcba9876543210" for r in plan.of_type(ZONE_SETTING))
    # Zone-level pulls would present an uploaded certificate the gateways do not trust.
    assert only(plan, ZONE_LEVEL_PULLS).inputs["enabled"] is False


def test_the_zone_stack_holds_the_zone_settings_and_nothing_else() -> None:
    for stack in ("production", "staging", "dev", "dev-alice"):
        plan = plan_of(stack)
        assert plan.of_type(ZONE_SETTING) == [] and plan.of_type(ZONE_LEVEL_PULLS) == [], stack
    zone = plan_of("zone")
    assert {r.type for r in zone.resources} == {"marketplace:index:ZoneTls", ZONE_SETTING, ZONE_LEVEL_PULLS}
    assert zone.outputs == {"zone": "example.com"}


def test_zone_settings_carry_no_resource_option_an_edit_could_change_alone() -> None:
    """An update of a ZoneSetting whose value did not change sends an empty PATCH that
    Cloudflare refuses (pulumi/pulumi-cloudflare#1319): the settings have no options
    beyond their parent, so the only edit the program makes to one is its value."""
    zone = plan_of("zone")
    (component,) = zone.of_type("marketplace:index:ZoneTls")
    for setting in zone.of_type(ZONE_SETTING):
        assert setting.parent == component.urn
        assert (setting.protect, setting.retain_on_delete, setting.ignore_changes, setting.aliases) == (False, False, [], [])
        assert setting.provider_urn is None or "default" in setting.provider_urn


@pytest.mark.parametrize(
    ("stack", "hostname"),
    [
        ("production", "catalog.example.com"),
        ("staging", "staging.catalog.example.com"),
        ("dev-alice", "alice.dev.catalog.example.com"),
    ],
)
def test_origin_certificate_is_issued_for_the_stacks_hostname(stack: str, hostname: str) -> None:
    plan = plan_of(stack)
    key = only(plan, PRIVATE_KEY)
    assert (key.inputs["algorithm"], key.inputs["ecdsaCurve"]) == ("ECDSA", "P256")
    request = only(plan, CERT_REQUEST)
    assert request.inputs["dnsNames"] == [hostname]
    assert request.property_dependencies["privateKeyPem"] == [key.urn]
    certificate = only(plan, ORIGIN_CA)
    assert certificate.inputs["hostnames"] == [hostname]
    assert certificate.inputs["requestType"] == "origin-ecc"
    assert certificate.inputs["requestedValidity"] == 5475
    assert certificate.property_dependencies["csr"] == [request.urn]
    assert plan.outputs["originCertificateExpiresOn"] == certificate.outputs["expiresOn"]


def test_edge_certificates_where_universal_ssl_does_not_reach() -> None:
    hosts = {
        stack: [r.inputs["hosts"] for r in plan_of(stack).of_type(CERTIFICATE_PACK)]
        for stack in ("production", "staging", "dev", "dev-alice")
    }
    assert hosts == {
        "production": [],
        "staging": [["example.com", "staging.catalog.example.com"]],
        "dev": [["example.com", "dev.catalog.example.com", "*.dev.catalog.example.com"]],
        "dev-alice": [],
    }


def test_origin_pull_ca_is_cloudflares() -> None:
    pem = cloudflare_origin_pull_ca()
    lines = pem.strip().splitlines()
    assert lines[0] == "-----BEGIN CERTIFICATE-----" and lines[-1] == "-----END CERTIFICATE-----"
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    assert hashlib.sha256(der).hexdigest() == ORIGIN_PULL_CA_SHA256
    assert "origin-pull.cloudflare.net" in ORIGIN_PULL_CA_FILE.read_text(encoding="utf-8")


# Secrets --------------------------------------------------------------------------------


def _exposed(value: Any, needle: str, path: str = "") -> list[str]:
    """Paths where `needle` appears outside a secret."""
    if isinstance(value, SecretValue):
        return []
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _exposed(item, needle, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _exposed(item, needle, f"{path}[{index}]")]
    return [path] if isinstance(value, str) and needle in value else []


@pytest.mark.parametrize("stack", ["production", "dev-alice"])
def test_origin_private_key_is_secret_everywhere(stack: str) -> None:
    plan = plan_of(stack)
    fake_key = reveal(only(plan, PRIVATE_KEY).outputs["privateKeyPem"])
    assert "PRIVATE KEY" in fake_key

    carriers = [r for r in plan.resources if _exposed(reveal(r.inputs), fake_key)]
    # The CSR is made from the key, and every cluster's gateway serves it from a TLS
    # Secret: the test would prove nothing if no input carried it.
    clusters = len(plan.of_type(DOKS))
    assert sorted(r.type for r in carriers) == sorted([CERT_REQUEST] + ["kubernetes:core/v1:Secret"] * clusters)
    for resource in carriers:
        assert _exposed(resource.inputs, fake_key) == [], resource.urn
    assert _exposed(plan.outputs, fake_key) == []

    # The key's body line, so that a JSON-escaped newline cannot hide it.
    body = fake_key.splitlines()[1]
    document = plan_document(plan)
    assert body not in json.dumps(document)
    assert body not in render_text(document)


def test_origin_tls_hands_the_gateways_a_secret_key() -> None:
    """What the gateways receive, checked on the Output itself: its consumers (a Kubernetes
    Secret) do not all mark their inputs secret on their own."""
    import pulumi
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    from offline.engine import _fresh_runtime, with_offline_credentials
    from offline.mocks import OfflineMocks

    config = with_offline_credentials(load_stack_config("dev-alice"))
    settings = parse_settings("dev-alice", config.values, config.secret_keys, environ={})
    _fresh_runtime(config, OfflineMocks())
    seen: dict[str, Any] = {}

    async def program() -> None:
        tls = OriginCertificate("origin", settings).origin_tls
        key = pulumi.Output.from_input(tls.private_key_pem)
        certificate = pulumi.Output.from_input(tls.certificate_pem)
        seen["key secret"] = await key.is_secret()
        seen["certificate secret"] = await certificate.is_secret()
        seen["client ca"] = tls.client_ca_pem

    _sync_await(run_in_stack(program))
    assert seen == {"key secret": True, "certificate secret": False, "client ca": cloudflare_origin_pull_ca()}


def test_edge_refuses_origins_that_do_not_match_the_regions() -> None:
    from components.edge import Edge, Origin

    config = load_stack_config("production", overrides={"marketplace:regions": ["sfo3", "fra1"]})
    settings = parse_settings("production", config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "t"})
    # Checked before anything is registered: a forgotten gateway cannot leave a region out.
    with pytest.raises(ValueError) as caught:
        Edge("edge", settings, {"sfo3": [Origin("sfo3", "198.18.0.1", 1.0)]})
    assert str(caught.value) == "Edge needs one origin per region of the stack (sfo3, fra1), got sfo3"
