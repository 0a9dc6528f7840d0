"""Helpers shared by the tests of what the plan declares on each cluster."""

from __future__ import annotations

from typing import Any

from components.regions import REGIONS
from offline.engine import Plan, PlannedResource, reveal
from ops.review.manifests import is_manifest

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"

# nyc3 in the middle of an upgrade: blue serving, green beside it with no traffic yet.
NYC3_UPGRADING = {
    "marketplace:generations": {
        "nyc3": [
            {"name": "blue", "kubernetesVersion": "1.36.1-do.0", "weight": 1},
            {"name": "green", "kubernetesVersion": "1.37.1-do.0", "weight": 0},
        ]
    }
}


def regions_of(plan: Plan) -> list[str]:
    """The regions the plan has a cluster in (cluster components are named by region)."""
    return [cluster.name for cluster in plan.of_type("marketplace:index:RegionalCluster")]


def kind_of(resource: PlannedResource) -> str:
    return resource.type.rsplit(":", 1)[-1]


def on_cluster(plan: Plan, region: str) -> list[PlannedResource]:
    """Every Kubernetes object (and chart) the plan declares for one region's cluster."""
    return [
        resource
        for resource in plan.resources
        if resource.type.startswith("kubernetes:") and plan.region_of(resource, REGIONS) == region
    ]


def objects(plan: Plan, region: str, kind: str) -> list[PlannedResource]:
    return [resource for resource in on_cluster(plan, region) if is_manifest(resource) and kind_of(resource) == kind]


def one(plan: Plan, region: str, kind: str, name: str) -> PlannedResource:
    """The object of a kind whose metadata.name is `name` (auto-named ones by prefix)."""
    matches = [
        resource for resource in objects(plan, region, kind) if metadata(resource).get("name") == name or resource.name == name
    ]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name} in {region}"
    return matches[0]


def metadata(resource: PlannedResource) -> dict[str, Any]:
    declared = dict(reveal(resource.inputs.get("metadata")) or {})
    if not declared.get("name"):
        declared["name"] = (resource.outputs.get("metadata") or {}).get("name")
    return declared


def spec(resource: PlannedResource) -> Any:
    return resource.inputs["spec"]


def pod_spec(deployment: PlannedResource) -> Any:
    return deployment.inputs["spec"]["template"]["spec"]


def config_of(plan: Plan, region: str, role: str) -> tuple[dict[str, str], Any]:
    """A catalog workload's ConfigMap data (what its container reads) and its Deployment."""
    deployment = one(plan, region, "Deployment", f"catalog-{role}")
    (container,) = pod_spec(deployment)["containers"]
    (source,) = container["envFrom"]
    config_map = one(plan, region, "ConfigMap", source["configMapRef"]["name"])
    return config_map.inputs["data"], deployment
