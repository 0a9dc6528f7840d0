"""What a real deploy would stumble on, found in plan documents: names and ranges two
resources would share (in a plan and across the stacks of one account), values an API
refuses, minors near their end, and in a diff, serving clusters that would be replaced or
removed and version changes the program does not apply."""

from __future__ import annotations

import copy
import datetime

import pytest

from ops.review import plandoc
from ops.review.diff_compare import diff_documents
from ops.review.findings import (
    diff_findings,
    name_collisions,
    plan_findings,
    serving_cluster_changes,
    value_problems,
    version_changes,
    version_lifecycle,
)
from tests import plandocs
from tests.ops.review.diffs import comparable
from tests.plandocs import real

ACCOUNT = ("dev", "staging", "production", "dev-alice")
LB_NAME = "service.beta.kubernetes.io/do-loadbalancer-name"
TODAY = datetime.date(2026, 12, 6)


def messages(findings) -> list[str]:
    return [f.message for f in findings]


def test_the_stacks_of_one_account_share_no_name_and_no_range():
    """Production and staging once gave nyc3 the same pod subnet (10.2.0.0/16), and every
    generation of a region one load balancer name."""
    assert messages(name_collisions([real(stack) for stack in ACCOUNT])) == []


def test_every_stacks_plan_has_only_the_placeholder_allow_list_to_warn_about():
    for stack in ACCOUNT:
        found = messages(plan_findings(real(stack), TODAY))
        assert found, stack
        assert all("203.0.113.0/24 is a documentation range (RFC 5737)" in m for m in found), found


def test_one_problem_shared_by_many_resources_is_one_warning_naming_them_all():
    (message,) = messages(plan_findings(real("production"), TODAY))
    assert message.startswith(
        "control-plane firewall address of production:blr1-doks, fra1-doks, nyc3-doks, sfo3-doks, sgp1-doks "
        "(controlPlaneFirewall.allowedAddresses[0]): 203.0.113.0/24 is a documentation range"
    )


def test_two_generations_asking_for_one_load_balancer_name_are_a_collision():
    document = real("dev", ["nyc3", "fra1"])
    proxies = plandoc.of_type(document, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")
    for proxy in proxies:
        proxy["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"][LB_NAME] = "mkt-dev-nyc3-gateway"
    (message,) = messages(name_collisions([document]))
    assert message.startswith("DigitalOcean load balancer name (gateway Service annotation) 'mkt-dev-nyc3-gateway': dev:")
    assert "account-unique: CCM do/loadbalancers.go" in message


def test_overlapping_ranges_and_shared_names_across_stacks_are_found():
    dev, staging = real("dev"), real("staging")
    dev_cluster = plandocs.find(dev, plandoc.DOKS, "nyc3-doks")
    staging_cluster = plandocs.find(staging, plandoc.DOKS, "nyc3-doks")
    dev_cluster["inputs"]["clusterSubnet"] = "10.0.0.0/9"
    plandocs.find(dev, plandoc.VPC, "nyc3-vpc")["inputs"]["name"] = plandocs.find(staging, plandoc.VPC, "nyc3-vpc")["inputs"][
        "name"
    ]
    found = messages(name_collisions([dev, staging]))
    assert any(m.startswith(f"pod subnet 10.0.0.0/9 and {staging_cluster['inputs']['clusterSubnet']} overlap") for m in found)
    assert any(m.startswith("VPC name 'mkt-staging-nyc3': dev:nyc3-vpc and staging:nyc3-vpc") for m in found)
    # Cloudflare hostnames are unique per zone: another zone is no collision.
    assert not any("Cloudflare load balancer hostname" in m for m in found)


def test_values_a_plan_does_not_show_never_collide():
    # Every secret reads "[secret]" in a plan document and every unknown "[unknown]": two
    # of them are no evidence of one name.
    dev, staging = real("dev"), real("staging")
    for hidden in ("[secret]", "[unknown]"):
        for document in (dev, staging):
            plandocs.find(document, plandoc.VPC, "nyc3-vpc")["inputs"]["name"] = hidden
        assert not any(m.startswith("VPC name") for m in messages(name_collisions([dev, staging]))), hidden


def test_values_an_api_refuses_are_named_with_their_source():
    document = real("dev")
    plandocs.find(document, plandoc.CDN, "assets-cdn")["inputs"]["ttl"] = 7200
    bucket = plandoc.of_type(document, plandoc.BUCKET)[0]
    bucket["inputs"]["lifecycleRules"] = [{"id": "abort-only", "enabled": True, "abortIncompleteMultipartUploadDays": 7}]
    proxy = plandoc.of_type(document, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")[0]
    proxy["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"][
        "service.beta.kubernetes.io/do-loadbalancer-type"
    ] = "GLOBAL"
    found = messages(value_problems(document))
    assert any(m.startswith("CDN TTL of dev:assets-cdn (ttl): 7200 is not one of 60, 600, 3600, 86400, 604800") for m in found)
    assert any(
        "Spaces lifecycle rule action" in m and "sets none of expiration or noncurrentVersionExpiration" in m for m in found
    )
    assert any("load balancer type" in m and "'GLOBAL' is not one of REGIONAL, REGIONAL_NETWORK" in m for m in found)


def test_a_minor_near_or_past_its_end_is_named():
    document = real("dev")
    assert version_lifecycle(document, TODAY) == []
    (near,) = messages(version_lifecycle(document, datetime.date(2027, 5, 1)))
    assert near == "dev:nyc3-doks runs 1.36.1-do.0: Kubernetes 1.36 reaches its end of life on 2027-06-28, in 58 days"
    (ended,) = messages(version_lifecycle(document, datetime.date(2027, 7, 1)))
    assert "reached its end of life on 2027-06-28" in ended


def test_a_node_size_change_in_production_replaces_no_cluster():
    """The size of the workers pool: a new pool beside the old one, never a new cluster (the
    default pool's size, which used to carry it, replaces the cluster)."""
    before = comparable("production")
    after = comparable("production", {"marketplace:nodePool": {"size": "s-8vcpu-16gb", "minNodes": 3, "maxNodes": 10}})
    diff = diff_documents(before, after)
    assert {c.name: c.op for c in diff.changes if c.type == plandoc.DOKS} == {}
    replaced = {c.name: c.replace_reasons for c in diff.changes if c.op == "replace"}
    assert replaced == {f"{region}-workers": ["size"] for region in ("sfo3", "nyc3", "fra1", "blr1", "sgp1")}
    for region in ("sfo3", "nyc3", "fra1", "blr1", "sgp1"):
        pool = plandocs.find(after, plandoc.NODE_POOL, f"{region}-workers")
        # A new name with the new size: the new pool never collides with the old one.
        assert pool["inputs"]["name"] == f"mkt-production-{region}-s-8vcpu-16gb"
    assert serving_cluster_changes(diff) == []


def test_replacing_or_removing_a_serving_cluster_is_warned_about():
    before = real("dev")
    after = copy.deepcopy(before)
    plandocs.find(after, plandoc.DOKS, "nyc3-doks")["inputs"]["clusterSubnet"] = "10.99.0.0/20"
    (replaced,) = messages(serving_cluster_changes(diff_documents(before, after)))
    assert replaced == (
        "cluster nyc3-doks (serving 1 of its region) would be REPLACED (clusterSubnet): change it through a new "
        "generation (ops upgrade)"
    )
    without = copy.deepcopy(before)
    cluster = plandocs.find(without, plandoc.DOKS, "nyc3-doks")
    without["resources"] = [r for r in without["resources"] if r["urn"] != cluster["urn"]]
    (deleted,) = messages(serving_cluster_changes(diff_documents(before, without)))
    assert (
        deleted
        == "cluster nyc3-doks (serving 1 of its region) would be DELETED while it serves: promote another generation first"
    )


def test_a_retired_generation_out_of_rotation_is_no_warning():
    two = {
        "marketplace:generations": {
            "nyc3": [
                {"name": "blue", "kubernetesVersion": "1.36.1-do.0", "weight": 0, "protect": False},
                {"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 1},
            ]
        }
    }
    green = {"marketplace:generations": {"nyc3": [{"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 1}]}}
    diff = diff_documents(comparable("dev", two), comparable("dev", green))
    assert "nyc3-doks" in {c.name for c in diff.changes if c.op == "delete"}
    assert serving_cluster_changes(diff) == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.36.4-do.0", "cluster nyc3-doks: version 1.36.1-do.0 -> 1.36.4-do.0 is not applied to a live cluster"),
        ("1.35.6-do.0", "cluster nyc3-doks: version 1.35.6-do.0 is LOWER than the deployed 1.36.1-do.0: refused"),
    ],
)
def test_a_version_edited_on_a_live_cluster_is_named_and_a_lower_one_refused(version: str, expected: str):
    before = real("dev")
    after = copy.deepcopy(before)
    plandocs.find(after, plandoc.DOKS, "nyc3-doks")["inputs"]["version"] = version
    diff = diff_documents(before, after)
    # The program ignores version changes on its clusters: nothing is planned ...
    assert [c for c in diff.changes if c.type == plandoc.DOKS] == []
    # ... and the review says so.
    (message,) = messages(version_changes(diff))
    assert message.startswith(expected)
    assert expected in "\n".join(messages(diff_findings(diff, TODAY)))
