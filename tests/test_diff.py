"""`ops diff`: two offline plans compared by URN like a preview, with replacements, secrets
that never print, the cost and deploy-time change, and the pull-request comment."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ops import plandoc
from ops.cli import main
from ops.diff import _json_document, comparable_document, diff_documents, render_markdown, render_text
from ops.stack_config import ROOT, stand_in
from tests import plandocs
from tests.conftest import plan_of
from tests.plandocs import full_stack, real

KEY = b"k" * 32
LABEL = "abc1234 (merge base with main)"
NEW_TOKEN = {"marketplace:kubernetesApiToken": {"secure": "v1:bm90LXJlYWw="}}


def comparable(stack: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """A head-side document of a cached plan: fingerprinted secrets, property dependencies."""
    return copy.deepcopy(comparable_document(plan_of(stack, overrides=overrides), KEY))


def ops_of(diff) -> dict[str, str]:
    return {change.name: change.op for change in diff.changes}


def test_adding_a_region_adds_its_resources_and_changes_the_project_membership():
    diff = diff_documents(real("dev"), real("dev", ["nyc3", "fra1"]))
    assert ops_of(diff) == {
        "fra1": "create",
        "fra1-vpc": "create",
        "fra1-doks": "create",
        "fra1-k8s": "create",
        "stack-resources": "update",
    }
    assert diff.summary() == "4 to add, 1 to change, 0 to replace, 0 to delete"
    membership = next(c for c in diff.changes if c.name == "stack-resources")
    assert [p.path for p in membership.properties] == ["resources"]
    text = render_text(diff, LABEL)
    assert "+  digitalocean:index/kubernetesCluster:KubernetesCluster  fra1-doks" in text
    assert re.search(r'~ resources: \+"do:kubernetes:[0-9a-f-]+"', text)


def test_the_pull_request_comment_shows_summary_groups_cost_and_unchanged_critical_path():
    diff = diff_documents(real("dev"), real("dev", ["nyc3", "fra1"]))
    markdown = render_markdown(diff, LABEL)
    first = markdown.splitlines()[0]
    assert first == (
        f"Offline plan of `dev` against {LABEL}: **4 to add**, **1 to change**, 0 to replace, 0 to delete (10 unchanged)."
    )
    assert "<details><summary><b>fra1</b>: 4 to add</summary>" in markdown
    assert "<details><summary><b>stack</b>: 1 to change</summary>" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    assert markdown.count("```") % 2 == 0
    # One more s-2vcpu-4gb pool ($24 a node in data/prices.yaml), at 1 and at 2 nodes.
    assert "| **change** | **+$24** | **+$48** |" in markdown
    assert "| + | fra1-doks nodes (s-2vcpu-4gb) | 1\u20132 \u00d7 node | $0 | $24\u2013$48 |" in markdown
    assert "- this change: ~7m 05s: `fra1-vpc` (5s) → `fra1-doks` (7m 00s)\n" in markdown
    # Both regions are equally long; either may be named.
    assert re.search(r"- a fresh `pulumi up`: 7m 10s \(unchanged\): `(nyc3|fra1)-vpc` \(5s\) → `\1-doks` \(7m 00s\) → ", markdown)


def test_a_property_that_forces_replacement_replaces_and_says_which():
    before = real("dev")
    after = copy.deepcopy(before)
    cluster = plandocs.find(after, plandoc.DOKS, "nyc3-doks")
    cluster["inputs"]["clusterSubnet"] = "10.3.0.0/16"
    cluster["inputs"]["nodePool"]["maxNodes"] = 3
    diff = diff_documents(before, after)
    change = next(c for c in diff.changes if c.name == "nyc3-doks")
    assert (change.op, change.replace_reasons) == ("replace", ["clusterSubnet"])
    lines = render_text(diff, LABEL).splitlines()
    assert any(line.strip().endswith("nyc3-doks  [replace: clusterSubnet]") and "+-" in line for line in lines)
    assert '~ clusterSubnet: "10.2.0.0/16" => "10.3.0.0/16"  (forces replacement)' in "\n".join(lines)
    assert "~ nodePool.maxNodes: 2 => 3" in "\n".join(lines)
    assert diff.summary() == "0 to add, 0 to change, 1 to replace, 0 to delete"


def test_a_cluster_upgrade_is_an_update_and_a_downgrade_a_replacement():
    before = real("dev")
    for version, op in (("1.34.3-do.1", "update"), ("1.32.10-do.2", "replace")):
        after = copy.deepcopy(before)
        plandocs.find(after, plandoc.DOKS, "nyc3-doks")["inputs"]["version"] = version
        assert ops_of(diff_documents(before, after)) == {"nyc3-doks": op}


def test_replacing_a_vpc_replaces_what_refers_to_it_down_to_the_kubernetes_objects():
    # Another network block re-addresses the VPC; the mock gives the new VPC the old id,
    # but a real preview replaces the cluster in it, its provider and its objects.
    before = comparable("dev")
    after = comparable("dev", {"marketplace:networkBlock": 9})
    plandocs.add_workloads(before, "nyc3")
    plandocs.add_workloads(after, "nyc3")
    diff = diff_documents(before, after)
    reasons = {c.name: (c.op, c.replace_reasons) for c in diff.changes}
    assert reasons["nyc3-vpc"] == ("replace", ["ipRange"])
    assert reasons["nyc3-doks"] == ("replace", ["vpcUuid refers to new nyc3-vpc"])
    assert reasons["nyc3-k8s"] == ("replace", ["kubeconfig refers to new nyc3-doks"])
    assert reasons["nyc3-gateway"] == ("replace", ["provider nyc3-k8s is new"])
    # The deploy of that change waits for a whole new cluster and what runs on it.
    assert "nyc3-doks" in render_text(diff, LABEL).split("this change:")[1]


def test_a_changed_secret_shows_as_changed_and_never_prints():
    before = comparable("dev")
    after = comparable("dev", NEW_TOKEN)
    diff = diff_documents(before, after)
    # A new token is a new kubeconfig for the provider, not a new cluster.
    assert ops_of(diff) == {"nyc3-k8s": "update"}
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
    diff = diff_documents(real("dev", ["nyc3", "fra1"]), real("dev"))
    assert diff.count("delete") == 4 and diff.count("update") == 1
    assert "-  digitalocean:index/vpc:Vpc  fra1-vpc" in render_text(diff, LABEL)
    assert "| **change** | **-$24** | **-$48** |" in render_markdown(diff, LABEL)


def test_pool_origins_pair_up_by_name():
    before = full_stack("production", ["nyc3", "fra1"])
    after = copy.deepcopy(before)
    pool = plandocs.find(after, plandoc.CF_POOL, "nyc3-pool")
    pool["inputs"]["origins"][0]["weight"] = 0
    pool["inputs"]["origins"].append({"name": "nyc3-green", "address": "198.18.9.9", "weight": 1})
    lines = render_text(diff_documents(before, after), LABEL)
    assert "~ origins[nyc3].weight: 1 => 0" in lines
    assert '+ origins[nyc3-green]: {"address": "198.18.9.9", "name": "nyc3-green", "weight": 1}' in lines


def test_unprotecting_and_moving_with_an_alias_are_shown_as_updates():
    before = real("production")
    after = copy.deepcopy(before)
    bucket = next(r for r in after["resources"] if r["type"] == plandoc.BUCKET)
    bucket["protect"] = False
    vpc = plandocs.find(after, plandoc.VPC, "nyc3-vpc")
    old_urn = vpc["urn"]
    vpc["urn"] = old_urn.replace("marketplace:index:RegionalCluster$", "marketplace:index:RegionVpc$")
    vpc["aliases"] = [old_urn]
    diff = diff_documents(before, after)
    assert ops_of(diff) == {bucket["name"]: "update", "nyc3-vpc": "update"}
    text = render_text(diff, LABEL)
    assert "~ [protect]: true => false" in text
    assert "~ [urn]:" in text


def test_the_base_plan_is_read_past_anything_logged_before_it():
    assert _json_document('{"resources": [], "outputs": {}}\n') == ({"resources": [], "outputs": {}}, None)
    assert _json_document('warning: deprecated\n{"resources": []}\n') == ({"resources": []}, None)
    for junk in ("", "Traceback", "[1, 2]", '{"no": "resources"}'):
        assert _json_document(junk)[0] is None


def test_a_huge_comment_is_cut_with_its_blocks_closed():
    diff = diff_documents(None, full_stack("production"))
    markdown = render_markdown(diff, LABEL, limit=3000)
    assert len(markdown) <= 3100
    assert "run `ops diff` locally for the rest" in markdown
    assert markdown.count("```") % 2 == 0
    assert markdown.count("<details>") == markdown.count("</details>")


def test_ops_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """The real command: the base revision planned by its own code in its own process."""
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", "venv", "venv-*", "__pycache__", ".*_cache", "node_modules", "out", "manifests")
    shutil.copytree(ROOT, repo, ignore=ignore)
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(variable, raising=False)

    def git(*args: str) -> None:
        identity = ("-c", "user.name=ops test", "-c", "user.email=ops@example.com", "-c", "commit.gpgsign=false")
        subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)

    staging = (repo / "Pulumi.staging.yaml").read_text()
    (repo / "Pulumi.staging.yaml").unlink()
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    # The pull request: a second region in dev, and a staging stack the base lacks.
    dev = repo / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("    - nyc3\n", "    - nyc3\n    - fra1\n"))
    (repo / "Pulumi.staging.yaml").write_text(staging)
    # The head plan runs in this process from the copy, which puts it on sys.path.
    monkeypatch.setattr(sys, "path", list(sys.path))

    assert main(["diff", "--stack", "dev", "--markdown", "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert re.match(r"Offline plan of `dev` against [0-9a-f]{7} \(merge base with main\): ", first)
    assert "**4 to add**, **1 to change**, 0 to replace, 0 to delete" in first
    assert "+  digitalocean:index/kubernetesCluster:KubernetesCluster  fra1-doks" in out
    assert "| **change** | **+$24** | **+$48** |" in out
    assert "- a fresh `pulumi up`: 7m 10s (unchanged)" in out

    assert main(["diff", "--stack", "dev", "--base", "no-such-branch", "--root", str(repo)]) == 1
    assert capsys.readouterr().err == f"error: unknown revision 'no-such-branch' in {repo}\n"

    assert main(["diff", "--stack", "staging", "--root", str(repo)]) == 0
    captured = capsys.readouterr()
    assert "no stack file Pulumi.staging.yaml" in captured.err
    assert "cannot plan stack `staging`" in captured.out
    assert "0 to change, 0 to replace, 0 to delete, 0 unchanged" in captured.out


def test_the_comment_does_not_depend_on_plan_order():
    # The workflow edits one comment per push: the same change must read the same.
    before, after = full_stack("production", ["nyc3"]), full_stack("production", ["nyc3", "fra1"])
    shuffled = {**after, "resources": list(reversed(after["resources"]))}
    assert render_markdown(diff_documents(before, shuffled), LABEL) == render_markdown(diff_documents(before, after), LABEL)
