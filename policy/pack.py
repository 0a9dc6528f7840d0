"""Every policy of the marketplace pack, in one list: __main__.py serves it to the Pulumi
CLI, the tests and the offline runner (policy/offline.py) call the same objects."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from policy import clusters, cost, edge, observability, storage, workloads

PACK_NAME = "marketplace-policies"
ENFORCEMENT = EnforcementLevel.MANDATORY

POLICIES: list[Policy] = [
    *clusters.POLICIES,
    *storage.POLICIES,
    *workloads.POLICIES,
    *edge.POLICIES,
    *cost.POLICIES,
    *observability.POLICIES,
]
