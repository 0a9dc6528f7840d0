"""`ops diff`: two real offline plans compared by URN like a preview, with replacements,
secrets that never print, the cost and deploy-time change, and the pull-request comment."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline.stack_config import ROOT, stand_in
from ops.cli import main
from ops.review import plandoc
from ops.review.cost import cost_change, delta_text, load_prices, money, range_text
from ops.review.deploytime import duration, fresh_deploy
from ops.review.diff import MISSING, BasePlan, _json_document, comparable_document, diff_documents, render_markdown, render_text
from tests import plandocs
from tests.conftest import plan_of
from tests.plandocs import DEV_TWO_REGIONS, real, upgrade_steps

KEY = b"k" * 32
LABEL = "abc1234 (merge base with main)"
NEW_TOKEN = {"marketplace:kubernetesApiToken": {"secure": "v1:bm90LXJlYWw="}}
TWO = DEV_TWO_REGIONS["marketplace:regions"]


def comparable(stack: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """A head-side document of a cached plan: fingerprinted secrets, property dependencies."""
    return copy.deepcopy(comparable_document(plan_of(stack, overrides=overrides), KEY))


def ops_of(diff) -> dict[str, str]:
    return {change.name: change.op for change in diff.changes}


def change_of(diff, name: str):
    (found,) = (c for c in diff.changes if c.name == name)
    return found


def adding_fra1():
    return diff_documents(real("dev"), real("dev", TWO))


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


def test_the_pull_request_comment_shows_summary_groups_cost_and_unchanged_critical_path():
    diff = adding_fra1()
    markdown = render_markdown(diff, LABEL)
    added = diff.count("create")
    assert markdown.splitlines()[0] == (
        f"Offline plan of `dev` against {LABEL}: **{added} to add**, **2 to change**, 0 to replace, 0 to delete "
        f"({diff.unchanged} unchanged)."
    )
    assert f"<details><summary><b>fra1</b>: {added} to add</summary>" in markdown
    assert "<details><summary><b>edge</b>: 1 to change</summary>" in markdown
    assert "<details><summary><b>stack</b>: 1 to change</summary>" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    assert markdown.count("```") % 2 == 0
    # The new region's node pool (at its min and max) and gateway load balancer; Cloudflare's
    # base covers the second origin. Priced from data/prices.yaml through the settings.
    settings = plandocs.settings_of("dev", TWO)
    prices = load_prices()
    pool = settings.cluster.node_pool
    node = prices["droplets"][pool.size]["monthly"]
    lb = settings.workloads.gateway.load_balancer_size_unit * prices["loadBalancer"]["perNode"]
    low, high = node * pool.min_nodes + lb, node * pool.max_nodes + lb
    assert f"| **change** | **{delta_text(low, low)}** | **{delta_text(high, high)}** |" in markdown
    assert (
        f"| + | fra1-doks nodes ({pool.size}) | {pool.min_nodes}\u2013{pool.max_nodes} \u00d7 node | $0 | {range_text(node * pool.min_nodes, node * pool.max_nodes)} |"
        in markdown
    )
    assert (
        f"| + | fra1-gateway-gateway load balancer (gateway) | {settings.workloads.gateway.load_balancer_size_unit} \u00d7 LB node | $0 | {money(lb)} |"
        in markdown
    )
    # The change waits for the new region's chain up to its pool; a fresh deploy takes as
    # long as before: both regions are equally long, and either may be named.
    assert re.search(
        r"- this change: ~[0-9m ]+s: `fra1-vpc` \(5s\) → `fra1-doks` \(7m 00s\) → .* → `fra1-pool` \(3s\)\n", markdown
    )
    fresh = duration(fresh_deploy(diff.base).seconds)
    assert re.search(
        rf"- a fresh `pulumi up`: {fresh} \(unchanged\): `(nyc3|fra1)-vpc` \(5s\) → `\1-doks` .* → `edge-lb` \(5s\)\n", markdown
    )


def test_an_upgrade_canary_changes_only_the_pools_origin_weights():
    added, canary = upgrade_steps("dev", "nyc3", "1.34", ["add", "canary"], regions=TWO)
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
    (added,) = upgrade_steps("dev", "nyc3", "1.34", ["add"], regions=TWO)
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
    old_max = cluster["inputs"]["nodePool"]["maxNodes"]
    cluster["inputs"]["nodePool"]["maxNodes"] = old_max + 1
    diff = diff_documents(before, after)
    change = change_of(diff, "nyc3-doks")
    assert (change.op, change.replace_reasons) == ("replace", ["clusterSubnet"])
    lines = render_text(diff, LABEL).splitlines()
    assert any(line.strip().endswith("nyc3-doks  [replace: clusterSubnet]") and "+-" in line for line in lines)
    assert f'~ clusterSubnet: "{old_subnet}" => "10.3.0.0/16"  (forces replacement)' in "\n".join(lines)
    assert f"~ nodePool.maxNodes: {old_max} => {old_max + 1}" in "\n".join(lines)
    assert diff.summary() == "0 to add, 0 to change, 1 to replace, 0 to delete"


def test_a_cluster_upgrade_is_an_update_and_a_downgrade_a_replacement():
    before = real("dev")
    for version, op in (("1.34.3-do.1", "update"), ("1.32.10-do.2", "replace")):
        after = copy.deepcopy(before)
        plandocs.find(after, plandoc.DOKS, "nyc3-doks")["inputs"]["version"] = version
        assert ops_of(diff_documents(before, after)) == {"nyc3-doks": op}


def test_replacing_a_vpc_replaces_what_refers_to_it_down_to_the_kubernetes_objects():
    # Another network block re-addresses the VPC; the mock gives the new VPC the old id,
    # but a real preview replaces the cluster in it, its providers and every object on them.
    before = comparable("dev")
    after = comparable("dev", {"marketplace:networkBlock": 9})
    diff = diff_documents(before, after)
    reasons = {c.name: (c.op, c.replace_reasons) for c in diff.changes}
    assert reasons["nyc3-vpc"] == ("replace", ["ipRange"])
    assert reasons["nyc3-doks"] == ("replace", ["vpcUuid refers to new nyc3-vpc"])
    assert reasons["nyc3-k8s"] == ("replace", ["kubeconfig refers to new nyc3-doks"])
    assert reasons["nyc3-gateway-crd-k8s"] == ("replace", ["kubeconfig refers to new nyc3-doks"])
    assert reasons["nyc3-gateway-gateway"] == ("replace", ["provider nyc3-k8s is new"])
    on_cluster = {r["name"] for r in after["resources"] if r["type"].startswith("kubernetes:")}
    assert {name for name, (op, _) in reasons.items() if op == "replace"} == {
        "nyc3-vpc",
        "nyc3-doks",
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


def test_the_base_plan_is_read_past_anything_logged_before_it():
    assert _json_document('{"resources": [], "outputs": {}}\n') == ({"resources": [], "outputs": {}}, None)
    assert _json_document('warning: deprecated\n{"resources": []}\n') == ({"resources": []}, None)
    for junk in ("", "Traceback", "[1, 2]", '{"no": "resources"}'):
        assert _json_document(junk)[0] is None


def test_a_huge_comment_is_cut_with_its_blocks_closed():
    diff = diff_documents(None, real("production"))
    markdown = render_markdown(diff, LABEL, limit=3000)
    assert len(markdown) <= 3100
    assert "run `ops diff` locally for the rest" in markdown
    assert markdown.count("```") % 2 == 0
    assert markdown.count("<details>") == markdown.count("</details>")


def test_the_comment_does_not_depend_on_plan_order():
    # The workflow edits one comment per push: the same change must read the same.
    before, after = real("dev"), real("dev", TWO)
    shuffled = {**after, "resources": list(reversed(after["resources"]))}
    assert render_markdown(diff_documents(before, shuffled), LABEL) == render_markdown(diff_documents(before, after), LABEL)


class GitDiff:
    """A copy of this checkout as a git repository whose `main` is the checkout and whose
    working tree adds fra1 to dev, and the real command on it in a process of its own:
    `python -m ops diff --stack dev --markdown`, which plans the base revision in yet
    another process by that revision's own code."""

    def __init__(self, directory: Path) -> None:
        self.repo = directory / "repo"
        ignore = shutil.ignore_patterns(".git", "venv", "venv-*", "__pycache__", ".*_cache", "node_modules", "out", "manifests")
        shutil.copytree(ROOT, self.repo, ignore=ignore)
        self.env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PYTHONPATH")}
        (self.repo / "Pulumi.staging.yaml").unlink()
        self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "base")
        self.base = self.git("rev-parse", "HEAD").strip()
        # The pull request: a second region in dev.
        dev = self.repo / "Pulumi.dev.yaml"
        dev.write_text(dev.read_text().replace("    - nyc3\n", "    - nyc3\n    - fra1\n"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops", "diff", "--stack", "dev", "--markdown"],
            cwd=self.repo,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def git(self, *args: str) -> str:
        identity = ("-c", "user.name=ops test", "-c", "user.email=ops@example.com", "-c", "commit.gpgsign=false")
        command = ["git", "-C", str(self.repo), *identity, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, env=self.env).stdout

    def result(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=300)
        return self.process.returncode, out, err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def test_ops_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The real command against a git revision. The one test that pays for processes that
    import the SDKs (the command's, and the base's it starts), so it plans dev only; the
    command runs in its own process while this one checks the refusals."""
    run = GitDiff(tmp_path)
    # Meanwhile, in this process: an unknown base is refused before anything is planned,
    # and a base that cannot plan the stack says why (before importing anything heavy).
    assert main(["diff", "--stack", "dev", "--base", "no-such-branch", "--root", str(run.repo)]) == 1
    assert capsys.readouterr().err == f"error: unknown revision 'no-such-branch' in {run.repo}\n"
    with BasePlan(run.repo, run.base, "staging", KEY) as staging:
        assert staging.result() == (
            None,
            "stack 'staging': no stack file Pulumi.staging.yaml (only dev-<name> stacks may go without)",
        )

    try:
        code, out, err = run.result()
    finally:
        run.close()
    assert code == 0, err
    # The same comparison as the pure functions make of the cached plans of both sides.
    expected = render_markdown(adding_fra1(), "BASE")
    first = out.splitlines()[0]
    assert re.match(rf"Offline plan of `dev` against {run.base[:7]} \(merge base with main\): ", first)
    assert first.split(": ", 1)[1] == expected.splitlines()[0].split(": ", 1)[1]
    assert "+  digitalocean:index/kubernetesCluster:KubernetesCluster  fra1-doks" in out
    for line in expected.splitlines():
        if line.startswith(("| **change**", "- this change:", "- a fresh `pulumi up`")):
            assert line in out
