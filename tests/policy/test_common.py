"""policy/common.py: how a policy reads a resource: its stack kind, and values unknown in a preview."""

from __future__ import annotations

import pytest

from offline.engine import UNKNOWN
from policy import edge, workloads
from policy.common import kind_of, stack_of
from tests import policy_fixtures as fx
from tests.policy.policycases import (
    CLUSTER,
    DEPLOYMENT,
    check,
    edit,
    web,
)


@pytest.mark.parametrize(
    ("stack", "kind"),
    [("production", "production"), ("staging", "staging"), ("dev", "dev"), ("dev-alice", "dev"), ("prod", "production")],
)
def test_the_kind_comes_from_the_urn_and_unknown_names_get_production_rules(stack: str, kind: str):
    urn = f"urn:pulumi:{stack}::marketplace::marketplace:index:RegionalCluster${CLUSTER}::nyc3-doks"
    assert stack_of(urn) == stack
    assert kind_of(urn) == kind


def test_values_unknown_during_preview_count_as_set():
    # A first preview knows neither the pool's monitor id nor the load balancer's pool ids.
    assert check(edge.pool_monitored, fx.POOL, {**fx.pool(), "monitor": UNKNOWN}) == []
    assert (
        check(edge.fallback_pool, fx.LOAD_BALANCER, {**fx.load_balancer(), "fallbackPool": UNKNOWN, "defaultPools": UNKNOWN})
        == []
    )
    unknown_image = edit(DEPLOYMENT, lambda d: web(d).update(image=UNKNOWN))
    assert check(workloads.pinned_images, fx.DEPLOYMENT, unknown_image) == []
