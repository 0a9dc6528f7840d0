"""`--details`: each created resource's key inputs, grouped by region so that a region's
VPC, cluster, workloads and pool read together."""

from __future__ import annotations

from ops.review import plandoc
from ops.review.details import groups, key_inputs, render
from tests.plandocs import find, real


def section(text: str, group: str) -> str:
    """The lines of one group of the details view."""
    return text.split(f"\n  {group}\n", 1)[1].split("\n\n", 1)[0]


def test_a_region_reads_together_network_first():
    document = real("staging")
    text = render(document)
    order = [group for group, _ in groups(document)]
    assert order[:5] == ["blr1", "fra1", "nyc3", "sfo3", "sgp1"] and {"assets", "edge", "origin", "stack"} <= set(order[5:])
    nyc3 = section(text, "nyc3")
    names = [line.split()[2] for line in nyc3.splitlines() if line.startswith("    + ")]
    assert names[:2] == ["nyc3-vpc", "nyc3-doks"]
    assert {"nyc3-catalog-web-deployment", "nyc3-gateway-gateway", "nyc3-pool"} <= set(names)
    assert "fra1" not in nyc3


def test_key_inputs_of_a_cluster_a_pool_and_a_deployment():
    document = real("production")
    text = section(render(document), "nyc3")
    cluster = find(document, plandoc.DOKS, "nyc3-doks")["inputs"]
    for line in (
        f'version: "{cluster["version"]}"',
        f'nodePool.size: "{cluster["nodePool"]["size"]}"',
        f"nodePool.minNodes: {cluster['nodePool']['minNodes']}",
        f'clusterSubnet: "{cluster["clusterSubnet"]}"',
        "ha: true",
        # Created with the plan: the VPC's id and the gateway's address come with the deploy.
        "vpcUuid: (known after deploy)",
        'origins[nyc3]: {"address": (known after deploy), "enabled": true',
        "spec.template.spec.containers[catalog-web].image: ",
    ):
        assert f"          {line}" in text, line
    # Never the mocks' stand-in id.
    vpc_id = next(r for r in document["resources"] if r["name"] == "nyc3-vpc")
    assert cluster["vpcUuid"] not in text, vpc_id["name"]


def test_a_type_without_an_entry_shows_its_plain_top_level_inputs():
    monitor = {"type": "cloudflare:index/notificationPolicy:NotificationPolicy", "name": "n"}
    inputs = {"enabled": True, "alertType": "load_balancing_health_alert", "filters": {"poolId": ["x"]}}
    assert key_inputs(monitor, inputs) == [("alertType", "load_balancing_health_alert"), ("enabled", True)]
