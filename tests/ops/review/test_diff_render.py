"""`ops diff`'s renderings: the text and the pull-request comment, with the cost and
deploy-time change, bounded in size and independent of plan order."""

from __future__ import annotations

import re

from ops.review.cost import delta_text, load_prices, money, range_text
from ops.review.deploytime import duration, fresh_deploy
from ops.review.diff_compare import diff_documents
from ops.review.diff_render import render_markdown
from tests import plandocs
from tests.ops.review.diffs import LABEL, TWO, adding_fra1
from tests.plandocs import real


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
    pool, system = settings.cluster.node_pool, settings.cluster.system_pool
    node, system_node = prices["droplets"][pool.size]["monthly"], prices["droplets"][system.size]["monthly"]
    lb = settings.workloads.gateway.load_balancer_size_unit * prices["loadBalancer"]["perNode"]
    low = node * pool.min_nodes + system_node * system.min_nodes + lb
    high = node * pool.max_nodes + system_node * system.max_nodes + lb
    assert f"| **change** | **{delta_text(low, low)}** | **{delta_text(high, high)}** |" in markdown
    assert (
        f"| + | fra1-workers nodes ({pool.size}) | {pool.min_nodes}\u2013{pool.max_nodes} \u00d7 node | $0 | {range_text(node * pool.min_nodes, node * pool.max_nodes)} |"
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
