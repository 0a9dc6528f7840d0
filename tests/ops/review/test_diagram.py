"""`ops diagram`: a Mermaid flowchart drawn from the real plans, valid at least
structurally, with the edge, each region's clusters (every generation), gateways and
workloads, the assets, and arrows for traffic and ownership."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline.stack_config import ROOT
from ops.cli import main
from ops.review import plandoc
from ops.review.diagram import as_markdown, diagram, node_ids
from ops.review.plan import plan_document
from tests import plandocs
from tests.conftest import plan_of
from tests.plandocs import DEV_TWO_REGIONS, real, settings_of, upgrade_steps

TWO = DEV_TWO_REGIONS["marketplace:regions"]
_ID = r"[ng]_[A-Za-z0-9_]+"
_NODE = re.compile(rf"^\s*(?P<id>{_ID})(?P<open>\(\(|\{{\{{|\[\[|\[\(|\(\[|\[/|\[|\(|>)\"(?P<label>[^\"]*)\"(?P<close>.*)$")
_EDGE = re.compile(rf"^\s*(?P<source>{_ID}) (?P<arrow>-->|-\.->)(?:\|(?P<text>[^|\"]*)\|)? (?P<target>{_ID})$")
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


def edges(source: str, arrow: str = "-->") -> dict[tuple[str, str], str]:
    """(source, target) -> the arrow's text, for arrows of one kind."""
    found = {}
    for line in source.splitlines():
        match = _EDGE.match(line)
        if match and match["arrow"] == arrow:
            found[(match["source"], match["target"])] = match["text"] or ""
    return found


def members(source: str, subgraph: str) -> set[str]:
    """Node ids declared inside a subgraph."""
    inside, found = False, set[str]()
    for line in source.splitlines():
        if (match := _SUBGRAPH.match(line)) and match["id"] == subgraph:
            inside = True
        elif inside and line.strip() == "end":
            return found
        elif inside and (match := _NODE.match(line)):
            found.add(match["id"])
    raise AssertionError(f"no subgraph {subgraph}")


def node(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]+", "_", name)


def test_production_traffic_runs_from_users_through_the_edge_to_each_regions_gateway_and_its_workloads():
    source = diagram(real("production"))
    labels = check_mermaid(source)
    settings = settings_of("production")
    traffic, owned = edges(source), edges(source, "-.->")
    assert ("n_users", "n_edge_lb") in traffic and ("n_users", "n_assets_cdn") in traffic
    assert ("n_assets_cdn", "n_mkt_production_assets") in traffic
    assert labels["n_edge_lb"] == f"load balancer {settings.hostname}<br/>steering: {settings.edge.steering_policy}"
    for region in settings.regions:
        gateway, doks = node(f"{region}-gateway-gateway"), node(f"{region}-doks")
        assert f'subgraph g_region_{region}["{region} · ' in source
        assert {node(f"{region}-vpc"), doks, gateway} <= members(source, f"g_region_{region}")
        assert "HA" in labels[doks] and labels[doks].startswith(f"{region}-doks<br/>DOKS ")
        units = settings.workloads.gateway.load_balancer_size_unit
        assert labels[gateway] == f"Gateway {region}-gateway-gateway<br/>DigitalOcean LB · {units} size units"
        # Users -> load balancer -> the region's pool -> its gateway -> the catalog apps.
        assert ("n_edge_lb", node(f"{region}-pool")) in traffic
        assert {target for source_, target in traffic if source_ == node(f"{region}-pool")} == {gateway}
        assert {target for source_, target in traffic if source_ == gateway} == {
            node(f"{region}-catalog-api-deployment"),
            node(f"{region}-catalog-web-deployment"),
        }
        # Ownership: the VPC hosts the cluster, which runs the gateway, apps and releases.
        assert (node(f"{region}-vpc"), doks) in owned
        for what in ("gateway-gateway", "catalog-web-deployment", "gateway-controller", "monitoring-prometheus"):
            assert owned[(doks, node(f"{region}-{what}"))] == "runs"
        assert owned[("n_edge_monitor", node(f"{region}-pool"))] == "checks"
    replicas = settings.workloads.web.replicas, settings.workloads.web.max_replicas
    assert (
        labels["n_nyc3_catalog_web_deployment"]
        == f"nyc3-catalog-web-deployment<br/>{replicas[0]}\u2013{replicas[1]} replicas (HPA)"
    )


def test_a_cluster_generation_is_a_second_cluster_in_its_region_and_a_weighted_origin_of_its_pool():
    added, canary = upgrade_steps("dev", "nyc3", "1.37", ["add", "canary"], regions=TWO)
    source = diagram(real("dev", TWO, stack_text=canary))
    labels = check_mermaid(source)
    nyc3 = members(source, "g_region_nyc3")
    assert {"n_nyc3_doks", "n_nyc3_green_doks", "n_nyc3_gateway_gateway", "n_nyc3_green_gateway_gateway"} <= nyc3
    assert "n_nyc3_green_doks" not in members(source, "g_region_fra1")
    assert "1.37." in labels["n_nyc3_green_doks"] and "1.36." in labels["n_nyc3_doks"]
    assert labels["n_nyc3_pool"] == "pool nyc3<br/>2 origins"
    traffic, owned = edges(source), edges(source, "-.->")
    # Each origin's share of the region's traffic, on the arrow to its own generation.
    assert traffic[("n_nyc3_pool", "n_nyc3_gateway_gateway")] == "weight 0.9"
    assert traffic[("n_nyc3_pool", "n_nyc3_green_gateway_gateway")] == "weight 0.1"
    assert traffic[("n_fra1_pool", "n_fra1_gateway_gateway")] == ""
    assert {(s, t) for s, t in traffic if s == "n_nyc3_green_gateway_gateway"} == {
        ("n_nyc3_green_gateway_gateway", "n_nyc3_green_catalog_api_deployment"),
        ("n_nyc3_green_gateway_gateway", "n_nyc3_green_catalog_web_deployment"),
    }
    assert owned[("n_nyc3_vpc", "n_nyc3_green_doks")] == "hosts"
    assert owned[("n_nyc3_green_doks", "n_nyc3_green_gateway_gateway")] == "runs"
    # Before the canary, green is up but takes no traffic: a dotted standby arrow only.
    before = diagram(real("dev", TWO, stack_text=added))
    assert ("n_nyc3_pool", "n_nyc3_green_gateway_gateway") not in edges(before)
    assert edges(before, "-.->")[("n_nyc3_pool", "n_nyc3_green_gateway_gateway")] == "standby, weight 0"
    assert edges(before)[("n_nyc3_pool", "n_nyc3_gateway_gateway")] == "weight 1"


def test_a_pool_points_at_the_gateways_its_origins_come_from_else_at_its_regions():
    _, canary = upgrade_steps("dev", "nyc3", "1.37", ["add", "canary"], regions=TWO)
    document = real("dev", TWO, stack_text=canary)
    # A pool whose origins are green's gateway alone points at it, not at every gateway of
    # the region: the origin addresses come from what the pool depends on.
    pool = plandocs.find(document, plandoc.CF_POOL, "nyc3-pool")
    blue = plandocs.find(document, plandocs.GATEWAY, "nyc3-gateway-gateway")["urn"]
    pool["dependencies"].remove(blue)
    pool["inputs"]["origins"] = [o for o in pool["inputs"]["origins"] if o["name"] == "nyc3-green"]
    traffic = edges(diagram(document))
    assert {t for s, t in traffic if s == "n_nyc3_pool"} == {"n_nyc3_green_gateway_gateway"}
    # Origins given as fixed addresses: the pool depends on no gateway, its region tells.
    for each in plandoc.of_type(document, plandoc.CF_POOL):
        each["dependencies"] = [d for d in each["dependencies"] if "gateway" not in d]
    source = diagram(document)
    check_mermaid(source)
    traffic = edges(source)
    assert {t for s, t in traffic if s == "n_fra1_pool"} == {"n_fra1_gateway_gateway"}
    assert {t for s, t in traffic if s == "n_nyc3_pool"} == {"n_nyc3_gateway_gateway", "n_nyc3_green_gateway_gateway"}


def test_a_drained_regions_pool_takes_no_traffic():
    document = real("dev", TWO)
    plandocs.find(document, plandoc.CF_POOL, "fra1-pool")["inputs"]["enabled"] = False
    source = diagram(document)
    labels = check_mermaid(source)
    assert labels["n_fra1_pool"].endswith("<br/>disabled (drained)")
    assert ("n_edge_lb", "n_fra1_pool") not in edges(source)
    assert edges(source, "-.->")[("n_edge_lb", "n_fra1_pool")] == "drained"
    assert ("n_edge_lb", "n_nyc3_pool") in edges(source)


def test_adding_a_region_adds_it_to_the_picture():
    one, two = diagram(real("dev")), diagram(real("dev", TWO))
    check_mermaid(two)
    assert "fra1" not in one
    assert {"n_fra1_vpc", "n_fra1_doks", "n_fra1_gateway_gateway"} <= members(two, "g_region_fra1")
    assert ("n_edge_lb", "n_fra1_pool") in edges(two)


def test_a_personal_stack_is_reached_through_its_dns_record():
    source = diagram(real("dev-alice"))
    check_mermaid(source)
    assert {("n_users", "n_edge_record"), ("n_edge_record", "n_nyc3_gateway_gateway")} <= set(edges(source))
    assert "load balancer" not in source and "n_nyc3_pool" not in source


def test_ids_stay_safe_and_unique_whatever_the_names():
    document = real("dev")
    # "nyc3 vpc" makes the same id as the real "nyc3-vpc": one of them gets a suffix.
    for name in ("end", "a b", 'quote"d', "nyc3 vpc"):
        plandocs.add(document, plandoc.VPC, name, {"ipRange": '10.0.0.0/8"'}, region="nyc3")
    source = diagram(document)
    labels = check_mermaid(source)
    assert len(list(node_ids(source))) == len(labels)
    assert {"n_nyc3_vpc", "n_nyc3_vpc_2", "n_end"} <= set(labels)
    assert any("#quot;" in label for label in labels.values())


def test_the_command_writes_a_mermaid_block_into_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    # The command on the cached plan: what it writes, not planning again, is under test.
    monkeypatch.setattr("offline.engine.run_plan", lambda stack, root=None: plan_of(stack))
    out = tmp_path / "stack.md"
    assert main(["diagram", "--stack", "dev", "--output", str(out)]) == 0
    source = diagram(real("dev"))
    assert out.read_text() == f"<!-- generated by `python -m ops diagram --stack dev` -->\n```mermaid\n{source}```\n"
    assert main(["diagram", "--stack", "dev"]) == 0
    assert capsys.readouterr().out == source


def test_the_picture_does_not_depend_on_plan_order():
    # The engine registers resources concurrently; a README diagram must not churn.
    document = real("production")
    shuffled = {**document, "resources": list(reversed(document["resources"]))}
    assert diagram(shuffled) == diagram(document)


def test_the_readme_shows_productions_current_diagram():
    current = as_markdown(diagram(plan_document(plan_of("production"))), "production").strip()
    assert current in (ROOT / "README.md").read_text(), (
        "README's diagram is stale: python -m ops diagram --stack production --output FILE.md and paste it"
    )


def test_an_output_that_cannot_be_written_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    with monkeypatch.context() as unplanned:
        unplanned.setattr("offline.engine.run_plan", lambda *_, **__: pytest.fail("planned before checking --output"))
        missing = tmp_path / "no-such-folder" / "stack.md"
        for target, problem in ((missing, f"no directory {missing.parent}"), (tmp_path, "is a directory")):
            assert main(["diagram", "--stack", "dev", "--output", str(target)]) == 2
            assert capsys.readouterr() == ("", f"error: --output {target}: {problem}\n")
    # What only the write itself finds: a link to a folder that is not there.
    monkeypatch.setattr("offline.engine.run_plan", lambda stack, root=None: plan_of(stack))
    link = tmp_path / "stack.md"
    link.symlink_to(missing)
    assert main(["diagram", "--stack", "dev", "--output", str(link)]) == 2
    assert capsys.readouterr() == ("", f"error: --output {link}: No such file or directory: {link}\n")
