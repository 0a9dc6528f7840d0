"""`ops diagram`: a Mermaid flowchart drawn from the plan, valid at least structurally,
with the edge, each region's cluster, gateway and workloads, the assets, and arrows for
traffic and ownership."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops import plandoc
from ops.cli import main
from ops.diagram import diagram, node_ids
from tests import plandocs
from tests.plandocs import full_stack, real

PRODUCTION_REGIONS = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")
_ID = r"[ng]_[A-Za-z0-9_]+"
_NODE = re.compile(rf"^\s*(?P<id>{_ID})(?P<open>\(\(|\{{\{{|\[\[|\[\(|\(\[|\[/|\[|\(|>)\"(?P<label>[^\"]*)\"(?P<close>.*)$")
_EDGE = re.compile(rf"^\s*(?P<source>{_ID}) (?:-->|-\.->)(?:\|[^|\"]*\|)? (?P<target>{_ID})$")
_SUBGRAPH = re.compile(rf"^\s*subgraph (?P<id>{_ID})\[\"[^\"]*\"\]$")
_CLOSERS = {"((": "))", "{{": "}}", "[[": "]]", "[(": ")]", "([": "])", "[/": "\\]", "[": "]", "(": ")", ">": "]"}


def check_mermaid(source: str) -> dict[str, str]:
    """Structural checks of a flowchart: one statement per line, subgraphs balanced, ids
    safe and unique, labels quoted, every edge between declared nodes. Returns labels by id."""
    lines = source.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    depth, labels, subgraphs = 0, {}, set()
    for line in lines[1:]:
        if match := _SUBGRAPH.match(line):
            assert match["id"] not in subgraphs, f"subgraph {match['id']} twice"
            subgraphs.add(match["id"])
            depth += 1
        elif line.strip() == "end":
            depth -= 1
            assert depth >= 0, "end without subgraph"
        elif match := _NODE.match(line):
            assert match["id"] not in labels, f"node {match['id']} declared twice"
            assert match["close"] == _CLOSERS[match["open"]], line
            labels[match["id"]] = match["label"]
        elif match := _EDGE.match(line):
            assert match["source"] in labels and match["target"] in labels, f"edge to an undeclared node: {line}"
        else:
            pytest.fail(f"not a flowchart statement: {line!r}")
    assert depth == 0, "subgraph without end"
    assert not set(labels) & subgraphs
    return labels


def edges(source: str, arrow: str = "-->") -> set[tuple[str, str]]:
    found = set()
    for line in source.splitlines():
        match = _EDGE.match(line)
        if match and f" {arrow}" in line:
            found.add((match["source"], match["target"]))
    return found


def test_production_names_every_regions_cluster_and_is_well_formed():
    source = diagram(real("production"))
    labels = check_mermaid(source)
    for region in PRODUCTION_REGIONS:
        assert f'subgraph g_region_{region}["{region} · ' in source
        assert any(label.startswith(f"{region}-doks<br/>DOKS") and "HA" in label for label in labels.values())
        assert (f"n_{region}_vpc", f"n_{region}_doks") in edges(source, "-.->")
    assert ("n_assets_cdn", "n_mkt_production_assets") in edges(source)


def test_removing_a_region_removes_it_from_the_picture():
    five = diagram(real("production"))
    four = diagram(real("production", ["sfo3", "nyc3", "fra1", "blr1"]))
    check_mermaid(four)
    assert four != five
    assert "sgp1" in five and "sgp1" not in four


def test_traffic_runs_from_users_through_the_edge_to_each_regions_gateway_and_its_routed_workloads():
    source = diagram(full_stack("production"))
    check_mermaid(source)
    traffic = edges(source)
    assert ("n_users", "n_edge_lb") in traffic
    for region in PRODUCTION_REGIONS:
        assert ("n_edge_lb", f"n_{region}_pool") in traffic
        assert (f"n_{region}_pool", f"n_{region}_gateway") in traffic
        assert (f"n_{region}_gateway", f"n_{region}_web") in traffic
        assert (f"n_{region}_gateway", f"n_{region}_api") in traffic
        # A Deployment no route sends traffic to gets none.
        assert (f"n_{region}_gateway", f"n_{region}_metrics_server") not in traffic
        # Pools only ever send to their own region.
        assert not {(s, t) for s, t in traffic if s == f"n_{region}_pool" and region not in t}
        owned = edges(source, "-.->")
        assert {(f"n_{region}_doks", f"n_{region}_{what}") for what in ("gateway", "web", "monitoring")} <= owned
        assert ("n_edge_monitor", f"n_{region}_pool") in owned
    assert 'n_edge_lb{{"load balancer catalog.example.com<br/>steering: dynamic_latency"}}' in source


def test_a_personal_stack_is_reached_through_its_dns_record():
    source = diagram(full_stack("dev-alice"))
    check_mermaid(source)
    assert {("n_users", "n_edge_record"), ("n_edge_record", "n_nyc3_gateway")} <= edges(source)
    assert "load balancer" not in source


def test_before_workloads_exist_pools_point_at_the_clusters():
    document = real("production", ["nyc3", "fra1"])
    plandocs.add_edge(document, {r: plandocs.find(document, plandoc.DOKS, f"{r}-doks")["urn"] for r in ("nyc3", "fra1")})
    source = diagram(document)
    check_mermaid(source)
    assert {("n_nyc3_pool", "n_nyc3_doks"), ("n_fra1_pool", "n_fra1_doks")} <= edges(source)


def test_ids_stay_safe_and_unique_whatever_the_names():
    document = real("dev")
    for name in ("end", "a b", 'quote"d', "nyc3-vpc"):
        plandocs.add(document, plandoc.VPC, name, {"ipRange": '10.0.0.0/8"'}, region="nyc3")
    source = diagram(document)
    labels = check_mermaid(source)
    assert len(list(node_ids(source))) == len(labels)
    assert any("#quot;" in label for label in labels.values())


def test_the_command_writes_a_mermaid_block_into_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "stack.md"
    assert main(["diagram", "--stack", "dev", "--output", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!-- generated by `python -m ops diagram --stack dev` -->\n```mermaid\nflowchart LR\n")
    assert text.endswith("```\n")
    assert main(["diagram", "--stack", "dev"]) == 0
    check_mermaid(capsys.readouterr().out)


def test_the_picture_does_not_depend_on_plan_order():
    # The engine registers resources concurrently; a README diagram must not churn.
    document = full_stack("production")
    shuffled = {**document, "resources": list(reversed(document["resources"]))}
    assert diagram(shuffled) == diagram(document)
