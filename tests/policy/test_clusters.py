"""policy/clusters.py: each cluster policy on hand-built clusters."""

from __future__ import annotations

import pytest

from components.settings import ConfigError, parse_settings
from offline.stack_config import load_stack_config
from policy import clusters, storage
from tests.policy.policycases import (
    ALLOW_LISTS,
    BUCKET,
    CLUSTER,
    Case,
    assert_good_passes_and_bad_fails,
    bucket,
    case_ids,
    cases_of,
    check,
    cluster,
)

CASES = cases_of(clusters)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_a_good_resource_passes_and_a_bad_one_fails_with_its_message(case: Case):
    assert_good_passes_and_bad_fails(case)


@pytest.mark.parametrize("stack", ["staging", "dev", "dev-alice"])
def test_production_only_rules_leave_other_stacks_alone(stack: str):
    relaxed = cluster(
        ha=False,
        surgeUpgrade=False,
        maintenancePolicy=None,
        nodePool={"size": "s-2vcpu-4gb", "autoScale": True, "minNodes": 1, "maxNodes": 2},
    )
    for policy in (
        clusters.ha_control_plane,
        clusters.surge_upgrade,
        clusters.maintenance_window,
        clusters.production_autoscaling,
    ):
        assert check(policy, CLUSTER, relaxed, stack) == [], policy.name
    assert check(storage.production_versioning, BUCKET, bucket(versioning={"enabled": False}), stack) == []


def test_a_cluster_runs_an_exact_version_and_ignores_version_changes():
    pinned = cluster(version="1.36.1-do.0")
    assert check(clusters.pinned_version, CLUSTER, pinned, "dev", ignore_changes=["version", "nodePool.nodeCount"]) == []
    for version in ("1.36", "latest"):
        (message,) = check(clusters.pinned_version, CLUSTER, cluster(version=version), "dev", ignore_changes=["version"])
        assert f"version {version!r} is not an exact DOKS version" in message
    (message,) = check(clusters.pinned_version, CLUSTER, pinned, "staging", ignore_changes=["nodePool.nodeCount"])
    assert "the cluster does not ignore version changes" in message


@pytest.mark.parametrize("entries", ALLOW_LISTS, ids=[",".join(entries) for entries in ALLOW_LISTS])
def test_the_pack_refuses_exactly_the_allow_lists_the_settings_refuse(entries: list[str]):
    config = load_stack_config("production", overrides={"marketplace:controlPlaneAllowList": entries})
    try:
        parse_settings("production", config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "dop_v1_test"})
        settings_refuse = False
    except ConfigError:
        settings_refuse = True
    firewall = {"enabled": True, "allowedAddresses": entries}
    pack_refuses = bool(check(clusters.control_plane_firewall, CLUSTER, cluster(controlPlaneFirewall=firewall)))
    assert settings_refuse == pack_refuses
    assert settings_refuse == (entries not in ALLOW_LISTS[:3])
