"""The network-policy pieces (components/network_policies.py): a closed namespace, name lookups,
peers that name pods rather than whole namespaces, and public egress that keeps private
addresses out."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from components.network_policies import PRIVATE_V4
from offline.engine import Plan
from tests.conftest import STACKS, plan_of
from tests.k8s_objects import metadata, objects, one, regions_of, spec

DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def admitted(address: str, rule: dict[str, Any]) -> bool:
    """Whether a planned egress rule's IP blocks let a pod reach `address`."""
    here = ipaddress.ip_address(address)
    for peer in rule["to"]:
        block = peer["ipBlock"]
        if here in ipaddress.ip_network(block["cidr"]) and not any(here in ipaddress.ip_network(e) for e in block["except"]):
            return True
    return False


def test_public_egress_reaches_public_addresses_and_nothing_private() -> None:
    # The catalog API's egress is the public_egress of the catalog service's port.
    (rule,) = spec(one(plan_of("dev"), "nyc3", "NetworkPolicy", "catalog-api"))["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    for public in ("1.1.1.1", "104.16.0.1", "2606:4700::1111"):
        assert admitted(public, rule), public
    # Pods, services and nodes (VPC), the droplet metadata service, carrier-grade NAT, and
    # IPv6's private and link-local ranges.
    for private in ("10.244.0.5", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "fd00::1", "fe80::1"):
        assert not admitted(private, rule), private


def test_every_stack_network_lies_in_the_excepted_private_ranges() -> None:
    """The VPCs and the clusters' pod and service ranges are what the exceptions keep the
    catalog API from reaching."""
    private = [ipaddress.IPv4Network(cidr) for cidr in PRIVATE_V4]
    plan = plan_of("production")
    ranges = [vpc.inputs["ipRange"] for vpc in plan.of_type("digitalocean:index/vpc:Vpc")]
    for cluster in plan.of_type("digitalocean:index/kubernetesCluster:KubernetesCluster"):
        ranges += [cluster.inputs["clusterSubnet"], cluster.inputs["serviceSubnet"]]
    assert len(ranges) == 15
    for cidr in ranges:
        assert any(ipaddress.IPv4Network(cidr).subnet_of(block) for block in private), cidr


def denied_namespaces(plan: Plan, region: str) -> set[str]:
    return {metadata(p)["namespace"] for p in objects(plan, region, "NetworkPolicy") if spec(p) == DENY_ALL}


def resolves_names(policy_spec: dict[str, Any]) -> bool:
    """The policy lets every pod it selects reach the cluster's DNS over UDP and TCP."""
    for rule in policy_spec.get("egress") or []:
        to_dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}} in rule.get("to", [])
        ports = {(port["protocol"], port["port"]) for port in rule.get("ports", [])}
        if to_dns and {("UDP", 53), ("TCP", 53)} <= ports:
            return True
    return False


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_each_closed_namespace_still_resolves_names(stack: str) -> None:
    plan = plan_of(stack)
    expected = {"catalog", "logging"} if stack == "production" else {"catalog"}
    for region in regions_of(plan):
        closed = denied_namespaces(plan, region)
        assert closed == expected, region
        for namespace in closed:
            policies = [spec(p) for p in objects(plan, region, "NetworkPolicy") if metadata(p)["namespace"] == namespace]
            assert any(p["podSelector"] == {} and resolves_names(p) for p in policies), (region, namespace)


@pytest.mark.parametrize("stack", STACKS)
def test_no_policy_admits_a_whole_namespace(stack: str) -> None:
    """Every peer that selects another namespace names the pods in it too: a namespace alone
    would admit whatever else runs there (Grafana beside Prometheus). The one exception is
    DNS, which is kube-system's to run."""
    plan = plan_of(stack)
    checked = 0
    for region in regions_of(plan):
        for policy in objects(plan, region, "NetworkPolicy"):
            for rule in spec(policy).get("ingress") or []:
                for peer in rule["from"]:
                    checked += 1
                    assert "podSelector" in peer, (region, metadata(policy)["name"], peer)
    assert checked >= 3 * len(regions_of(plan))
