"""The loud warnings of a review: what a change does that a reviewer must not miss, each
with why and what to do instead, shown first in `ops diff` and its comment."""

from __future__ import annotations

import copy

from ops.review import plandoc
from ops.review.diff_compare import diff_documents
from ops.review.diff_render import render_markdown, render_text
from ops.review.findings import (
    change_findings,
    diff_findings,
    every_region_at_once,
    protected_changes,
    serving_cluster_changes,
    unique_name_changes,
)
from tests import plandocs
from tests.ops.review.diffs import LABEL, TWO
from tests.plandocs import real

REGIONS = ("blr1", "fra1", "nyc3", "sfo3", "sgp1")


def every_cluster_replaced() -> tuple[dict, dict]:
    """Production with every cluster's default pool resized: the size is ForceNew, so each
    of the five serving clusters, and everything on it, would be replaced."""
    before = real("production")
    after = copy.deepcopy(before)
    for cluster in plandoc.of_type(after, plandoc.DOKS):
        cluster["inputs"]["nodePool"]["size"] = "s-8vcpu-16gb"
    return before, after


def test_a_five_cluster_replacement_is_the_first_thing_the_review_says():
    before, after = every_cluster_replaced()
    diff = diff_documents(before, after)
    assert {c.name for c in diff.changes if c.type == plandoc.DOKS and c.op == "replace"} == {f"{r}-doks" for r in REGIONS}
    (everywhere,) = every_region_at_once(diff)
    assert everywhere.loud and everywhere.message.startswith(
        "EVERY REGION at once: the serving clusters of all 5 regions (blr1, fra1, nyc3, sfo3, sgp1) would be replaced"
    )
    assert "change one region at a time, a new generation per region (ops upgrade REGION)" in everywhere.message
    assert len(serving_cluster_changes(diff)) == 5
    warnings = diff_findings(diff)
    text = render_text(diff, LABEL, warnings=warnings)
    lines = text.splitlines()
    heading = lines.index(f"WARNING: {sum(f.loud for f in warnings)} thing(s) this change does that a reviewer must not miss:")
    # Before any resource: the heading comes right after the title.
    assert heading == 2 and lines[heading + 1] == f"  ! {everywhere.message}"
    assert (
        "  ! cluster nyc3-doks (serving 1 of its region) would be REPLACED (nodePool.size): change it through a new generation (ops upgrade)"
        in lines
    )
    markdown = render_markdown(diff, LABEL, warnings=warnings)
    assert markdown.startswith("> [!CAUTION]\n> **")
    assert f"> - {everywhere.message}" in markdown.split("Offline plan of")[0]


def test_one_region_at_a_time_is_not_every_region():
    before, after = every_cluster_replaced()
    for cluster in plandoc.of_type(after, plandoc.DOKS):
        if cluster["name"] != "nyc3-doks":
            cluster["inputs"]["nodePool"]["size"] = plandocs.find(before, plandoc.DOKS, cluster["name"])["inputs"]["nodePool"][
                "size"
            ]
    diff = diff_documents(before, after)
    assert every_region_at_once(diff) == [] and len(serving_cluster_changes(diff)) == 1
    # A stack of one region has no other region to fail over to anyway: the serving
    # cluster's own warning says it.
    dev = real("dev")
    changed = copy.deepcopy(dev)
    plandocs.find(changed, plandoc.DOKS, "nyc3-doks")["inputs"]["nodePool"]["size"] = "s-8vcpu-16gb"
    assert every_region_at_once(diff_documents(dev, changed)) == []


def test_a_protected_resource_destroyed_or_unprotected_is_warned_about():
    before = real("production")
    bucket = next(r for r in before["resources"] if r["type"] == plandoc.BUCKET)
    assert bucket["protect"] is True
    renamed = copy.deepcopy(before)
    next(r for r in renamed["resources"] if r["urn"] == bucket["urn"])["inputs"]["region"] = "fra1"
    (replaced,) = protected_changes(diff_documents(before, renamed))
    assert replaced.loud and replaced.message.startswith(
        f"protected, and would be destroyed: {bucket['name']} REPLACED (region). "
    )
    assert "lift the protection in a pull request of its own first" in replaced.message
    gone = copy.deepcopy(before)
    gone["resources"] = [r for r in gone["resources"] if r["urn"] != bucket["urn"]]
    (deleted,) = protected_changes(diff_documents(before, gone))
    assert deleted.message.startswith(
        f"protected, and would be destroyed: {bucket['name']} DELETED. `pulumi up` stops at the first"
    )
    unprotected = copy.deepcopy(before)
    next(r for r in unprotected["resources"] if r["urn"] == bucket["urn"])["protect"] = False
    (lifted,) = protected_changes(diff_documents(before, unprotected))
    assert lifted.message.startswith(f"loses its protection: {bucket['name']} (retainOnDelete keeps the cloud resource). ")
    # Nothing protected changes: nothing to say.
    assert protected_changes(diff_documents(before, copy.deepcopy(before))) == []


def test_an_account_unique_name_that_changes_is_warned_about():
    before = real("dev", TWO)
    after = copy.deepcopy(before)
    vpc = plandocs.find(after, plandoc.VPC, "fra1-vpc")
    old = vpc["inputs"]["name"]
    vpc["inputs"]["name"] = "mkt-dev-frankfurt"
    (renamed,) = unique_name_changes(diff_documents(before, after))
    assert renamed.loud and renamed.message.startswith(
        f"VPC name of fra1-vpc changes: {old!r} -> 'mkt-dev-frankfurt' (account-unique: "
    )
    assert "it is renamed in place: whatever finds it by its old name" in renamed.message
    assert renamed.message.endswith("switch over, then retire the old")
    # A replaced resource says so; a moved address range is no name (the replaced cluster says it).
    vpc["inputs"]["ipRange"] = "10.199.0.0/22"
    (replaced,) = unique_name_changes(diff_documents(before, after))
    assert replaced.message.startswith("VPC name of fra1-vpc changes: ") and "it is REPLACED" in replaced.message
    # An unchanged plan, and a plan that only adds resources, change no name.
    assert unique_name_changes(diff_documents(real("dev"), real("dev", TWO))) == []


def test_quiet_findings_stay_apart_from_the_loud_ones():
    before, after = real("dev"), copy.deepcopy(real("dev"))
    plandocs.find(after, plandoc.DOKS, "nyc3-doks")["inputs"]["serviceSubnet"] = "10.128.99.0/24"
    diff = diff_documents(before, after)
    findings = diff_findings(diff)
    loud, quiet = [f for f in findings if f.loud], [f for f in findings if not f.loud]
    assert loud == change_findings(diff)[: len(loud)] and quiet, "the shipped placeholder allow-list is a quiet finding"
    text = render_text(diff, LABEL, warnings=findings)
    assert text.count("\n  ! ") == len(loud) and text.count("\nwarning: ") == len(quiet)
    markdown = render_markdown(diff, LABEL, warnings=findings)
    assert markdown.index("> [!CAUTION]") < markdown.index("> [!WARNING]") < markdown.index("Offline plan of")
    # No warning, no block.
    assert "[!CAUTION]" not in render_markdown(diff, LABEL) and "WARNING" not in render_text(diff, LABEL)
