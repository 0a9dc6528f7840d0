"""Every stack, whole: Pulumi.yaml as the CLI validates it, each stack file complete under
the CLI's config rules, every stack planned through __main__.py, no shared physical names."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import yaml

from offline.engine import Plan
from offline.stack_config import ROOT, load_stack_config
from tests.conftest import STACKS, plan_of

SCHEMA = Path(__file__).parent / "schemas" / "pulumi-project.schema.json"
# Physical names that must be unique in one DigitalOcean or Cloudflare account.
ACCOUNT_WIDE = ("digitalocean:", "cloudflare:")


def test_project_file_is_valid_for_the_cli():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, json.loads(SCHEMA.read_text()))
    assert project["name"] == "marketplace"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    for key, declaration in project["config"].items():
        assert declaration.get("description"), f"{key} has no description"
        assert "default" in declaration, f"{key}: a key without default would be required in dev-<name> stacks"


def test_every_stack_file_is_complete_and_disables_default_kubernetes_providers():
    files = sorted(ROOT.glob("Pulumi.*.yaml"))
    assert {f.name for f in files} == {"Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml", "Pulumi.zone.yaml"}
    for file in files:
        stack = file.name.split(".")[1]
        config = load_stack_config(stack)
        assert json.loads(config.values["pulumi:disable-default-providers"]) == ["kubernetes"], stack
    # A personal stack has no file: it relies on declared defaults alone.
    assert "marketplace:domain" in load_stack_config("dev-someone").values


def test_each_stack_plans_with_the_expected_regions(stack_plan: Plan):
    clusters = stack_plan.of_type("marketplace:index:RegionalCluster")
    expected = 5 if stack_plan.stack in ("staging", "production") else 1
    assert len(clusters) == expected
    assert stack_plan.outputs["url"].startswith("https://")


def test_no_physical_name_is_shared_by_two_stacks():
    names: dict[str, set[tuple[str, str]]] = {}
    for stack in (*STACKS, "dev-bob"):
        plan = plan_of(stack)
        physical = [
            (r.type, r.outputs.get("name") or r.inputs.get("name"))
            for r in plan.resources
            if r.custom and r.type.startswith(ACCOUNT_WIDE)
        ]
        present = [(type_, name) for type_, name in physical if isinstance(name, str)]
        assert len(present) >= 4, f"{stack}: expected named VPC, cluster, bucket and project"
        assert len(present) == len(set(present)), f"{stack} reuses a physical name"
        names[stack] = set(present)
    for a, b in itertools.combinations(names, 2):
        assert not names[a] & names[b], f"{a} and {b} share {names[a] & names[b]}"


def test_adding_a_region_renames_nothing():
    before = plan_of("dev")
    after = plan_of("dev", overrides={"marketplace:regions": ["nyc3", "fra1"]})
    before_urns = {r.urn: r.inputs for r in before.resources}
    after_urns = {r.urn: r.inputs for r in after.resources}
    assert set(before_urns) < set(after_urns)
    # Only what lists every region changes: the project's members and the load balancer's pools.
    listing_all = ("ProjectResources", "loadBalancer:LoadBalancer")
    for urn, inputs in before_urns.items():
        if not any(kind in urn for kind in listing_all):
            assert after_urns[urn] == inputs, f"{urn} changed when a region was added"
