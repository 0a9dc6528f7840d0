"""DOKS clusters: a control-plane firewall everywhere, an exact version that DigitalOcean's
forced upgrades cannot turn into a replacement; in production, what keeps the catalog up
through a control-plane failure, an upgrade and a lost node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from components.kubernetes_versions import SLUG
from policy.common import UNKNOWN, Report, elements, is_true, kind_of, open_to_everyone, peek, whole

CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
NODE_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
MIN_PRODUCTION_NODES = 2


def _production_cluster(args: ResourceValidationArgs) -> bool:
    return args.resource_type == CLUSTER and kind_of(args.urn) == "production"


def _control_plane_firewall(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != CLUSTER:
        return
    firewall = peek(args.props, "controlPlaneFirewall")
    if not is_true(peek(firewall, "enabled")):
        report(
            "the control-plane firewall is off: the Kubernetes API would answer the whole internet; "
            "set control_plane_firewall={enabled: True, allowed_addresses: [...]}"
        )
        return
    allowed = peek(firewall, "allowedAddresses")
    if allowed is UNKNOWN:
        return
    addresses = elements(allowed)
    if not addresses:
        report("the control-plane firewall allows no address: not even the deploy runner could reach the API")
    if kind_of(args.urn) == "production":
        for problem in open_to_everyone(addresses):
            report(f"the control-plane firewall allow-list entry {problem}; production must list its networks")


def _pinned_version(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != CLUSTER:
        return
    version = peek(args.props, "version")
    if version is not UNKNOWN and not (isinstance(version, str) and SLUG.match(version)):
        report(
            f"version {version!r} is not an exact DOKS version (1.x.y-do.z): a minor or 'latest' moves every cluster "
            "to each new patch release at once"
        )
    if "version" not in (args.opts.ignore_changes or []):
        report(
            "the cluster does not ignore version changes (ignore_changes=['version']): once DigitalOcean force-upgrades "
            "an ended minor, the next refresh plans a lower version, which the provider replaces the cluster for"
        )


def _ha_control_plane(args: ResourceValidationArgs, report: Report) -> None:
    if _production_cluster(args) and not is_true(peek(args.props, "ha")):
        report("production clusters need an HA control plane (ha=True): one control-plane failure must not stop deploys")


def _surge_upgrade(args: ResourceValidationArgs, report: Report) -> None:
    if _production_cluster(args) and not is_true(peek(args.props, "surgeUpgrade")):
        report("production clusters need surge_upgrade=True: nodes are replaced with new ones up first, not drained in place")


def _maintenance_window(args: ResourceValidationArgs, report: Report) -> None:
    if not _production_cluster(args):
        return
    policy = peek(args.props, "maintenancePolicy")
    day, start = peek(policy, "day"), peek(policy, "startTime")
    if not day or not start:
        report(
            "production clusters need a maintenance window (maintenance_policy={day, start_time}): "
            "DigitalOcean otherwise patches whenever it likes"
        )


def _pool_problems(pool: Mapping[str, Any] | Any) -> list[str]:
    if pool is UNKNOWN:
        return []
    if not is_true(peek(pool, "autoScale")):
        return ["the node pool does not autoscale (auto_scale=True, min_nodes, max_nodes)"]
    minimum = peek(pool, "minNodes")
    if minimum is UNKNOWN:
        return []
    count = whole(minimum)
    if count is None or count < MIN_PRODUCTION_NODES:
        return [
            f"the node pool may shrink to {count if count is not None else 'an unset number of'} node(s); "
            f"production needs min_nodes >= {MIN_PRODUCTION_NODES} so draining one node keeps the catalog up"
        ]
    return []


def _production_autoscaling(args: ResourceValidationArgs, report: Report) -> None:
    if kind_of(args.urn) != "production":
        return
    if args.resource_type == CLUSTER:
        pool = peek(args.props, "nodePool")
    elif args.resource_type == NODE_POOL:
        pool = args.props
    else:
        return
    for problem in _pool_problems(pool):
        report(problem)


control_plane_firewall = ResourceValidationPolicy(
    name="doks-control-plane-firewall",
    description="Every DOKS cluster's Kubernetes API is behind its control-plane firewall with a non-empty allow-list.",
    validate=_control_plane_firewall,
)

pinned_version = ResourceValidationPolicy(
    name="doks-pinned-version",
    description="Every DOKS cluster runs an exact version and ignores version changes (upgrades are new generations).",
    validate=_pinned_version,
)

ha_control_plane = ResourceValidationPolicy(
    name="doks-production-ha-control-plane",
    description="Production DOKS clusters run a highly available control plane.",
    validate=_ha_control_plane,
)

surge_upgrade = ResourceValidationPolicy(
    name="doks-production-surge-upgrade",
    description="Production DOKS clusters upgrade with surge nodes.",
    validate=_surge_upgrade,
)

maintenance_window = ResourceValidationPolicy(
    name="doks-production-maintenance-window",
    description="Production DOKS clusters have a maintenance window (day and start time).",
    validate=_maintenance_window,
)

production_autoscaling = ResourceValidationPolicy(
    name="doks-production-autoscaling",
    description=f"Production node pools autoscale with at least {MIN_PRODUCTION_NODES} nodes.",
    validate=_production_autoscaling,
)

POLICIES = [control_plane_firewall, pinned_version, ha_control_plane, surge_upgrade, maintenance_window, production_autoscaling]
