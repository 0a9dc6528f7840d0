"""policy/pack.py: the policies of the pack, together."""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy

from policy.pack import POLICIES
from tests.policy.policycases import (
    check,
)


def test_a_policy_ignores_resources_of_other_types():
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            assert check(policy, "digitalocean:index/vpc:Vpc", {"region": "nyc3", "ipRange": "10.0.0.0/24"}) == [], policy.name
