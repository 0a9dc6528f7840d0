"""`ops diff`'s comparison: two real offline plans compared by URN like a preview, with
replacements, moves, and secrets that are compared but never print."""

from __future__ import annotations

import copy

from offline.stack_config import stand_in
from ops.review import plandoc
from ops.review.cost import cost_change, money
from ops.review.diff_compare import MISSING, diff_documents
from ops.review.diff_render import render_markdown, render_text
from tests import plandocs
from tests.ops.review.diffs import LABEL, NEW_TOKEN, TWO, change_of, comparable, ops_of
from tests.plandocs import real, upgrade_steps


def test_adding_a_region_adds_its_resources_and_changes_only_the_project_and_the_load_balancers_pools():
    before, after = real("dev"), real("dev", TWO)
    diff = diff_documents(before, after)
    fra1 = {r["urn"]: r["name"] for r in after["resources"] if r["region"] == "fra1"}
    # Everything of the new region, its pool included, and nothing else, is added.
    assert {"fra1-vpc", "fra1-doks", "fra1-k8s", "fra1-gateway-gateway", "fra1-catalog-web-deployment", "fra1-pool"} <= set(
        fra1.values()
    )
    assert {c.urn for c in diff.changes if c.op == "create"} == set(fra1)
    assert {c.name: c.op for c in diff.changes if c.op != "create"} == {"stack-resources": "update", "edge-lb": "update"}
    assert diff.summary() == f"{len(fra1)} to add, 2 to change, 0 to replace, 0 to delete"
    assert diff.unchanged == len(before["resources"]) - 2
    # The project gains the cluster; the load balancer gains the pool (its description
    # names the regions), and keeps its fallback.
    assert [p.path for p in change_of(diff, "stack-resources").properties] == ["resources"]
    assert [p.path for p in change_of(diff, "edge-lb").properties] == ["defaultPools", "description"]
    text = render_text(diff, LABEL)
    pool_id, cluster_id = after["outputs"]["pools"]["fra1"], after["outputs"]["clusters"]["fra1"]
    assert f'~ defaultPools: +"{pool_id}"' in text
    assert f'~ resources: +"do:kubernetes:{cluster_id}"' in text
    assert "+  digitalocean:index/kubernetesCluster:KubernetesCluster  fra1-doks" in text
    assert "+  cloudflare:index/loadBalancerPool:LoadBalancerPool  fra1-pool" in text


def test_an_upgrade_canary_changes_only_the_pools_origin_weights():
    added, canary = upgrade_steps("dev", "nyc3", "1.37", ["add", "canary"], regions=TWO)
    diff = diff_documents(real("dev", TWO, stack_text=added), real("dev", TWO, stack_text=canary))
    assert ops_of(diff) == {"nyc3-pool": "update"}
    assert [(p.path, p.before, p.after) for p in change_of(diff, "nyc3-pool").properties] == [
        ("origins[nyc3].weight", 1, 0.9),
        ("origins[nyc3-green].weight", 0, 0.1),
    ]
    text = render_text(diff, LABEL)
    assert "~ origins[nyc3].weight: 1 => 0.9" in text and "~ origins[nyc3-green].weight: 0 => 0.1" in text
    assert "Monthly cost: " in text and "(±$0)" in text
    assert "this change: ~0s: nothing to wait for" in text


def test_pool_origins_pair_up_by_name():
    # The add step appends green's origin; retiring blue removes the first one. Paired by
    # name, each shows as itself, not as every later origin changing.
    (added,) = upgrade_steps("dev", "nyc3", "1.37", ["add"], regions=TWO)
    with_green = real("dev", TWO, stack_text=added)
    diff = diff_documents(real("dev", TWO), with_green)
    pool = change_of(diff, "nyc3-pool")
    assert [p.path for p in pool.properties] == ["origins[nyc3-green]"]
    assert pool.properties[0].after["weight"] == 0
    # Retiring blue takes the first origin out (the pool as the retire step leaves it).
    retired = copy.deepcopy(with_green)
    origins = plandocs.find(retired, plandoc.CF_POOL, "nyc3-pool")["inputs"]["origins"]
    assert [o["name"] for o in origins] == ["nyc3", "nyc3-green"]
    del origins[0]
    retire = diff_documents(with_green, retired)
    assert [(p.path, p.after is MISSING) for p in change_of(retire, "nyc3-pool").properties] == [("origins[nyc3]", True)]
    assert '- origins[nyc3]: {"address": ' in render_text(retire, LABEL)


def test_a_property_that_forces_replacement_replaces_and_says_which():
    before = real("dev")
    after = copy.deepcopy(before)
    cluster = plandocs.find(after, plandoc.DOKS, "nyc3-doks")
    old_subnet = cluster["inputs"]["clusterSubnet"]
    cluster["inputs"]["clusterSubnet"] = "10.3.0.0/16"
    old_max = cluster["inputs"]["nodePool"]["nodeCount"]
    cluster["inputs"]["nodePool"]["maxNodes"] = old_max + 1
    diff = diff_documents(before, after)
    change = change_of(diff, "nyc3-doks")
    assert (change.op, change.replace_reasons) == ("replace", ["clusterSubnet"])
    lines = render_text(diff, LABEL).splitlines()
    assert any(line.strip().endswith("nyc3-doks  [replace: clusterSubnet]") and "+-" in line for line in lines)
    assert f'~ clusterSubnet: "{old_subnet}" => "10.3.0.0/16"  (forces replacement)' in "\n".join(lines)
    assert f"+ nodePool.maxNodes: {old_max + 1}" in "\n".join(lines)
    assert diff.summary() == "0 to add, 0 to change, 1 to replace, 0 to delete"


def test_a_cluster_upgrade_is_an_update_and_a_downgrade_a_replacement_unless_the_version_is_ignored():
    before = real("dev")
    for version, op in (("1.37.1-do.0", "update"), ("1.35.6-do.0", "replace")):
        after = copy.deepcopy(before)
        cluster = plandocs.find(after, plandoc.DOKS, "nyc3-doks")
        cluster["inputs"]["version"] = version
        cluster["ignoreChanges"] = []
        assert ops_of(diff_documents(before, after)) == {"nyc3-doks": op}
        # The program's clusters ignore version changes: neither is applied, neither replaces.
        cluster["ignoreChanges"] = ["version", "nodePool.nodeCount"]
        assert ops_of(diff_documents(before, after)) == {}


def test_replacing_a_vpc_replaces_what_refers_to_it_down_to_the_kubernetes_objects():
    # Another network block re-addresses the VPC; the mock gives the new VPC the old id,
    # but a real preview replaces the cluster in it, its providers and every object on them.
    before = comparable("dev")
    after = comparable("dev", {"marketplace:networkBlock": 9})
    diff = diff_documents(before, after)
    reasons = {c.name: (c.op, c.replace_reasons) for c in diff.changes}
    assert reasons["nyc3-vpc"] == ("replace", ["ipRange"])
    # The pod and service subnets belong to the network block too.
    assert reasons["nyc3-doks"] == ("replace", ["clusterSubnet", "serviceSubnet"])
    assert reasons["nyc3-k8s"] == ("replace", ["kubeconfig refers to new nyc3-doks"])
    assert reasons["nyc3-gateway-crd-k8s"] == ("replace", ["kubeconfig refers to new nyc3-doks"])
    assert reasons["nyc3-gateway-gateway"] == ("replace", ["provider nyc3-k8s is new"])
    on_cluster = {r["name"] for r in after["resources"] if r["type"].startswith("kubernetes:")}
    assert {name for name, (op, _) in reasons.items() if op == "replace"} == {
        "nyc3-vpc",
        "nyc3-doks",
        "nyc3-workers",
        "nyc3-k8s",
        "nyc3-gateway-crd-k8s",
    } | on_cluster
    # What refers to the new cluster and gateway learns their ids and address in the deploy.
    assert {name: op for name, (op, _) in reasons.items() if op != "replace"} == {
        "nyc3-pool": "update",
        "stack-resources": "update",
    }
    text = render_text(diff, LABEL)
    assert "~ origins: (known after deploy)" in text and "~ resources: (known after deploy)" in text
    # The deploy of that change waits for a whole new cluster and what runs on it.
    assert "nyc3-doks" in text.split("this change:")[1]


def test_a_changed_secret_shows_as_changed_and_never_prints():
    before = comparable("dev")
    after = comparable("dev", NEW_TOKEN)
    diff = diff_documents(before, after)
    # A new token is a new kubeconfig for the cluster's providers, not a new cluster.
    assert ops_of(diff) == {"nyc3-k8s": "update", "nyc3-gateway-crd-k8s": "update"}
    text, markdown = render_text(diff, LABEL), render_markdown(diff, LABEL)
    assert "~ kubeconfig: [secret] changed" in text and "~ kubeconfig: [secret] changed" in markdown
    for shown in (text, markdown):
        assert "[secret:" not in shown
        assert stand_in("marketplace:kubernetesApiToken") not in shown
        assert stand_in("digitalocean:token") not in shown


def test_blanked_secrets_cannot_be_compared_and_do_not_count_as_changed():
    # A base revision whose engine cannot fingerprint gives plain "[secret]" marks, as
    # `ops plan --json` prints them; the head's secret did change, but nothing can tell.
    before = real("dev")
    after = comparable("dev", NEW_TOKEN)
    assert plandocs.find(after, plandoc.K8S_PROVIDER, "nyc3-k8s")["inputs"]["kubeconfig"].startswith("[secret:")
    assert diff_documents(before, after).changes == []
    # A value that stops being secret is a change, and still shows neither side.
    plandocs.find(after, plandoc.K8S_PROVIDER, "nyc3-k8s")["inputs"]["kubeconfig"] = "apiVersion: v1"
    assert "~ kubeconfig: [secret] changed" in render_text(diff_documents(before, after), LABEL)


def test_a_base_that_cannot_plan_the_stack_means_everything_is_added():
    head = real("dev")
    diff = diff_documents(None, head, base_note="The base abc1234 cannot plan stack `dev` (no stack file): everything is new.")
    assert {c.op for c in diff.changes} == {"create"}
    assert diff.count("create") == len(head["resources"])
    markdown = render_markdown(diff, LABEL)
    assert "> The base abc1234 cannot plan stack `dev` (no stack file): everything is new." in markdown
    assert "| before | $0 | $0 |" in markdown


def test_removing_a_region_deletes_it():
    before, after = real("dev", TWO), real("dev")
    diff = diff_documents(before, after)
    fra1 = {r["urn"] for r in before["resources"] if r["region"] == "fra1"}
    assert {c.urn for c in diff.changes if c.op == "delete"} == fra1
    assert {c.name: c.op for c in diff.changes if c.op != "delete"} == {"stack-resources": "update", "edge-lb": "update"}
    assert "-  digitalocean:index/vpc:Vpc  fra1-vpc" in render_text(diff, LABEL)
    added = cost_change(after, before)
    markdown = render_markdown(diff, LABEL)
    assert added.min_delta > 0
    assert f"| **change** | **-{money(added.min_delta)}** | **-{money(added.max_delta)}** |" in markdown


def test_unprotecting_and_moving_with_an_alias_are_shown_as_updates():
    before = real("production")
    after = copy.deepcopy(before)
    bucket = next(r for r in after["resources"] if r["type"] == plandoc.BUCKET)
    assert bucket["protect"] is True
    bucket["protect"] = False
    vpc = plandocs.find(after, plandoc.VPC, "nyc3-vpc")
    old_urn = vpc["urn"]
    assert "marketplace:index:RegionVpc$" in old_urn
    vpc["urn"] = old_urn.replace("marketplace:index:RegionVpc$", "marketplace:index:Network$")
    vpc["aliases"] = [old_urn]
    diff = diff_documents(before, after)
    assert ops_of(diff) == {bucket["name"]: "update", "nyc3-vpc": "update"}
    text = render_text(diff, LABEL)
    assert "~ [protect]: true => false" in text
    assert "~ [urn]:" in text
    # Without the alias the move is a delete and a create.
    del vpc["aliases"]
    moved = diff_documents(before, after)
    assert [moved.count(op) for op in ("create", "update", "delete")] == [1, 1, 1]
