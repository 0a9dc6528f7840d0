"""policy/edge.py: each edge and gateway policy on hand-built resources."""

from __future__ import annotations

import pytest

from policy import edge
from tests import policy_fixtures as fx
from tests.policy.policyargs import policy_resource
from tests.policy.policycases import (
    Case,
    assert_good_passes_and_bad_fails,
    case_ids,
    cases_of,
    edit,
    gateway_objects,
    on_cluster,
    stack_check,
)

CASES = cases_of(edge)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_a_good_resource_passes_and_a_bad_one_fails_with_its_message(case: Case):
    assert_good_passes_and_bad_fails(case)


def test_each_gateway_is_locked_by_an_envoy_proxy_and_client_certificates():
    assert stack_check(edge.gateways_locked, on_cluster(*gateway_objects())) == []
    # The EnvoyProxy may also be named by the Gateway itself.
    direct = edit(
        fx.gateway(),
        lambda g: g["spec"].update(
            gatewayClassName="other",
            infrastructure={"parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": "catalog-proxy"}},
        ),
    )
    assert stack_check(edge.gateways_locked, on_cluster(*gateway_objects(gateway=direct))) == []
    cilium = edit(fx.gateway(), lambda g: g["spec"].update(gatewayClassName="cilium"))
    [message] = stack_check(edge.gateways_locked, on_cluster(*gateway_objects(gateway=cilium)))
    assert message.startswith("Gateway gateway/catalog names no EnvoyProxy of this cluster")
    elsewhere = edit(fx.client_traffic_policy(), lambda p: p["spec"]["targetRefs"][0].update(name="other"))
    [message] = stack_check(edge.gateways_locked, on_cluster(*gateway_objects(mtls=elsewhere)))
    assert message == (
        "Gateway gateway/catalog is targeted by no ClientTrafficPolicy: it accepts clients without Cloudflare's certificate"
    )


def test_dynamic_latency_needs_every_pool_checked_from_every_region():
    def resources(steering: str, *check_regions: list[str] | None) -> list[object]:
        lb = policy_resource(fx.LOAD_BALANCER, {**fx.load_balancer(), "steeringPolicy": steering}, name="edge-lb")
        pools = [
            policy_resource(fx.POOL, {**fx.pool(f"r{i}"), "checkRegions": regions}, name=f"r{i}-pool")
            for i, regions in enumerate(check_regions)
        ]
        return [lb, *pools]

    every = sorted(edge.CLOUDFLARE_REGIONS)
    assert stack_check(edge.latency_steering_measured, resources("dynamic_latency", ["ALL_REGIONS"], every, None)) == []
    # Proximity needs no measurement: three regions are enough for health.
    assert stack_check(edge.latency_steering_measured, resources("proximity", ["WEU", "EEU", "NAF"])) == []
    [message] = stack_check(edge.latency_steering_measured, resources("dynamic_latency", every, ["WEU", "EEU", "NAF"]))
    assert message == (
        "pool r1-pool has no round-trip data from ENAM, ME, NEAS, NSAM, OC, SAF, SAS, SEAS, SSAM, WNAM: dynamic_latency "
        "steering sends those regions' visitors in failover order, not to the nearest cluster; check from every region "
        "(ALL_REGIONS on Enterprise, the 13 codes elsewhere) or steer by proximity"
    )
