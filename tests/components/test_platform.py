"""The platform rules: every rule names its source, names a property the program declares,
loads into typed rules, and checks values the way the platform would."""

from __future__ import annotations

import pytest
import yaml

from components.platform import KINDS, RULES_FILE, SCOPES, platform_rules, value_problem, values_at
from tests.conftest import STACKS, plan_of


def test_every_rule_names_its_source_and_a_known_scope_or_kind():
    raw = yaml.safe_load(RULES_FILE.read_text())
    for rules in raw["replace_on_change"].values():
        assert all(rule["source"].strip() for rule in rules)
    for rule in raw["unique_names"]:
        assert rule["source"].strip() and rule["scope"] in SCOPES and ("type" in rule) != ("kubernetes" in rule)
    for rule in raw["allowed_values"]:
        assert rule["source"].strip() and rule["kind"] in KINDS and ("type" in rule) != ("kubernetes" in rule)


def test_the_cluster_design_rests_on_sourced_doks_replacements():
    """components/cluster.py keeps the workers in a pool of their own because a new size of
    the cluster's default pool replaces the cluster, while a new size of a separate pool
    replaces that pool only (terraform-provider-digitalocean kubernetes.go nodePoolSchema:
    size ForceNew). The rules must say so, with that source, or the diff would show a
    cluster replacement as an update."""
    raw = yaml.safe_load(RULES_FILE.read_text())["replace_on_change"]
    cluster = {rule["property"]: rule["source"] for rule in raw["digitalocean:index/kubernetesCluster:KubernetesCluster"]}
    pool = {rule["property"]: rule["source"] for rule in raw["digitalocean:index/kubernetesNodePool:KubernetesNodePool"]}
    assert "nodePoolSchema" in cluster["nodePool.size"] and "ForceNew" in cluster["nodePool.size"]
    assert "nodePoolSchema" in pool["size"] and "ForceNew" in pool["size"]
    # The workers pool's size is not a property of the cluster.
    assert "size" not in cluster


def test_every_replacement_rule_names_a_property_the_program_declares():
    """A misspelt property (vpcUUID for vpcUuid) would never match, and the diff would show
    a replacement as an update: each rule's path must reach a value of some resource of its
    type, in the inputs or (auto-named) the outputs of one of the stacks' plans."""
    rules = platform_rules()
    resources = [resource for stack in STACKS for resource in plan_of(stack).resources]
    declared = {resource.type for resource in resources}
    checked = 0
    for type_ in set(rules.replace_on_change) & declared:
        for prop in rules.replace_properties(type_):
            path = tuple(prop.split("."))
            assert any(
                list(values_at(r.inputs, path)) or list(values_at(r.outputs, path)) for r in resources if r.type == type_
            ), f"{type_} {prop}"
            checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("ttl",), 3600, None),
        (("ttl",), 3600.0, None),
        (("ttl",), 7200, "7200 is not one of 60, 600, 3600, 86400, 604800"),
    ],
)
def test_an_enum(path: tuple[str, ...], value: object, problem: str | None):
    assert value_problem(platform_rules().allowed("digitalocean:index/cdn:Cdn", *path), value) == problem


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", None),
        ("8.8.8.0/24", None),
        ("203.0.113.0/24", "203.0.113.0/24 is a documentation range (RFC 5737): a placeholder that reaches no one"),
        ("198.51.100.7", "198.51.100.7 is a documentation range (RFC 5737): a placeholder that reaches no one"),
        ("10.0.0.0/8", "10.0.0.0/8 is not a public address"),
        ("2606:4700::/32", "2606:4700::/32 is IPv6; only IPv4 is accepted"),
        ("nonsense", "'nonsense' is not an IP address or CIDR range"),
    ],
)
def test_control_plane_firewall_addresses_are_public_ipv4(address: str, problem: str | None):
    rule = platform_rules().allowed(
        "digitalocean:index/kubernetesCluster:KubernetesCluster", "controlPlaneFirewall", "allowedAddresses", "[*]"
    )
    assert value_problem(rule, address) == problem


def test_vpc_ranges_are_private_and_sized_as_the_api_takes():
    rule = platform_rules().allowed("digitalocean:index/vpc:Vpc", "ipRange")
    assert value_problem(rule, "10.192.4.0/22") is None
    assert value_problem(rule, "10.0.0.0/8") == "10.0.0.0/8 is larger than /16"
    assert value_problem(rule, "10.0.0.0/29") == "10.0.0.0/29 is smaller than /28"
    assert value_problem(rule, "100.64.0.0/16") == "100.64.0.0/16 is not a private (RFC 1918) range"


def test_values_at_walks_lists_and_skips_what_is_missing():
    value = {"a": [{"b": 1}, {"c": 2}, {"b": 3}]}
    assert list(values_at(value, ("a", "[*]", "b"))) == [("a[0].b", 1), ("a[2].b", 3)]
    assert list(values_at(value, ("x", "y"))) == []
