"""`ops plan`: what a stack would create, without a cloud account.

Prints a preview-like tree of every resource under its component, counts per type and per
region, and the stack outputs with secrets shown as [secret]. `--json` prints the same as
JSON. Then one `warning:` line on stderr for each thing a real deploy would stumble on that
the mock engine accepts (ops/review/findings.py): physical names or address ranges two
resources would share, values an API refuses, Kubernetes minors near their end. `--account`
also plans the other stacks with a stack file and checks names and ranges across them (the
stacks of one account). Exit status: 0 planned, 1 the stack's config was refused (one
message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack to plan (default: dev)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--manifests", metavar="DIR", type=Path, help="also write each cluster's Kubernetes objects as YAML under DIR"
    )
    parser.add_argument(
        "--account", action="store_true", help="also check names and address ranges against the other stacks' plans"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def account_stacks(root: Path) -> list[str]:
    """The stacks with a stack file: the ones that share the team's account."""
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in root.glob("Pulumi.*.yaml"))


def warnings_of(document: dict[str, Any], root: Path, account: bool) -> list[str]:
    from ops.review.findings import name_collisions, plan_findings

    findings = plan_findings(document)
    if account:
        from offline.engine import run_plan

        others = [plan_document(run_plan(stack, root=root)) for stack in account_stacks(root) if stack != document["stack"]]
        own = {f.message for f in findings}
        findings += [f for f in name_collisions([document, *others]) if f.message not in own]
    return [finding.line() for finding in findings]


def plan_document(plan: Any) -> dict[str, Any]:
    """The plan as plain JSON-ready data, secrets redacted."""
    from components.regions import REGIONS
    from offline.engine import redact

    return {
        "project": plan.project,
        "stack": plan.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "provider": r.provider_urn,
                "region": plan.region_of(r, REGIONS),
                "inputs": redact(r.inputs),
                "dependencies": sorted(set(r.dependencies)),
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "ignoreChanges": list(r.ignore_changes),
            }
            for r in plan.resources
        ],
        "outputs": redact(plan.outputs),
    }


def _tree(document: dict[str, Any]) -> Iterator[str]:
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {resource["urn"] for resource in document["resources"]}
    for resource in document["resources"]:
        parent = resource["parent"] if resource["parent"] in urns else None
        children.setdefault(parent, []).append(resource)

    def walk(parent: str | None, depth: int) -> Iterator[str]:
        for resource in sorted(children.get(parent, []), key=lambda r: (r["custom"], r["type"], r["name"])):
            marks = "".join(
                f" [{mark}]" for mark, on in (("protect", resource["protect"]), ("retain", resource["retainOnDelete"])) if on
            )
            yield f"{'    ' * depth}+ {resource['type']:<58} {resource['name']}{marks}"
            yield from walk(resource["urn"], depth + 1)

    yield f"+ pulumi:pulumi:Stack  {document['project']}-{document['stack']}"
    yield from walk(None, 1)


def _format_output(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value


def render_text(document: dict[str, Any]) -> str:
    resources = document["resources"]
    lines = [f"Offline plan of {document['project']}/{document['stack']} (mock engine, no cloud calls)", ""]
    lines.extend(_tree(document))
    lines += ["", f"Resources: {len(resources)} to create", "", "By type:"]
    for type_, count in sorted(Counter(r["type"] for r in resources).items()):
        lines.append(f"    {count:>4}  {type_}")
    regions = Counter(r["region"] for r in resources if r["region"])
    if regions:
        lines += ["", "By region:"]
        lines.extend(f"    {count:>4}  {region}" for region, count in sorted(regions.items()))
        shared = sum(1 for r in resources if not r["region"])
        lines.append(f"    {shared:>4}  (not regional)")
    lines += ["", "Outputs:"]
    for key, value in sorted(document["outputs"].items()):
        lines.append(f"    {key}: {_format_output(value)}")
    # Operator insight (ops/review/cost.py, ops/review/deploytime.py): monthly cost and deploy time.
    from ops.review.cost import render_cost
    from ops.review.deploytime import render_fresh_deploy

    lines += ["", render_cost(document).rstrip("\n"), "", render_fresh_deploy(document).rstrip("\n")]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from offline.engine import PlanError, run_plan

    try:
        plan = run_plan(args.stack, root=args.root)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    document = plan_document(plan)
    if args.manifests:
        from ops.review.manifests import write_manifests

        written = write_manifests(plan, args.manifests)
        print(f"wrote {len(written)} manifest files under {args.manifests}", file=sys.stderr)
    if args.json:
        json.dump(document, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(document))
    sys.stdout.flush()
    try:
        warnings = warnings_of(document, args.root, getattr(args, "account", False))
    except PlanError as error:
        print(f"error: another stack of the account cannot be planned: {error}", file=sys.stderr)
        return 1
    for line in warnings:
        print(line, file=sys.stderr)
    return 0
