"""`ops plan`: what a stack would create, without a cloud account.

Prints what the policy pack says about the plan first (policycheck.py), then a preview-like
tree of every resource under its component, counts per type and per region, and the stack
outputs with secrets shown as [secret] and values only the deploy makes (ids, addresses) as
(known after deploy). `--details` adds each created resource's key inputs by region; `--json`
prints the plan as JSON, those values as "[unknown]" (computed.py). Then one `warning:` line
on stderr for each thing a real deploy would stumble on that the mock engine accepts
(ops/review/findings.py): physical names or address ranges two resources would share, values
an API refuses, Kubernetes minors near their end. `--account` also plans the other stacks
with a stack file and checks names and ranges across them (the stacks of one account).

Exit status: 0 planned, 1 the stack's config was refused (one message on stderr), 2 the
--manifests directory cannot be written (one message), 3 planned but the policy pack has a
mandatory violation (`pulumi up` would refuse it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT, stack_names

# What `ops diff` asks of the base revision's `ops plan` (when that revision knows these
# flags): the mocks' stand-in values, to compare with, and no policy run, which the base
# does not need and whose verdict must not stop the comparison.
DIFF_BASE_FLAGS = ("--no-policy", "--mock-values")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack to plan (default: dev)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--details", action="store_true", help="also show each created resource's key inputs, by region")
    parser.add_argument(
        "--manifests", metavar="DIR", type=Path, help="also write each cluster's Kubernetes objects as YAML under DIR"
    )
    parser.add_argument(
        "--account", action="store_true", help="also check names and address ranges against the other stacks' plans"
    )
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (it runs by default)")
    parser.add_argument("--mock-values", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def unwritable(path: Path, *, directory: bool = False) -> str | None:
    """Why `path` cannot be written as a file (or made a directory, with its parents), told
    before seconds of planning; None when nothing stands in the way that can be seen."""
    if path.exists():
        if directory != path.is_dir():
            return "not a directory" if directory else "is a directory"
        return None
    if not directory:
        return None if path.parent.is_dir() else f"no directory {path.parent}"
    ancestor = next((parent for parent in path.parents if parent.exists()), None)
    return None if ancestor is None or ancestor.is_dir() else f"{ancestor} is not a directory"


def os_problem(error: OSError) -> str:
    """An OSError in one line: what the system says, and of which file."""
    return f"{error.strerror or error}: {error.filename}" if error.filename else str(error.strerror or error)


def account_stacks(root: Path) -> list[str]:
    """The stacks with a stack file, the zone stack among them: the ones that share the
    team's account, and with it its names and address ranges."""
    return stack_names(root)


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
    """The plan as plain JSON-ready data, secrets redacted. Values stay the mocks' stand-ins
    (two plans compare by them); `knownAfterDeploy` says which ones only the deploy makes."""
    from components.regions import REGIONS
    from offline.engine import redact
    from ops.review.computed import OUTPUTS_KEY, RESOURCE_KEY, known_after_deploy

    computed, computed_outputs = known_after_deploy(plan)
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
                RESOURCE_KEY: computed.get(r.urn, []),
            }
            for r in plan.resources
        ],
        "outputs": redact(plan.outputs),
        OUTPUTS_KEY: computed_outputs,
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
    from ops.review.computed import as_text

    return as_text(value) if not isinstance(value, str) else value


def render_text(document: dict[str, Any], policy: Any = None, details: bool = False) -> str:
    from ops.review.computed import AFTER_DEPLOY, OUTPUTS_KEY, substitute

    resources = document["resources"]
    lines = [f"Offline plan of {document['project']}/{document['stack']} (mock engine, no cloud calls)", ""]
    if policy is not None:
        from ops.review.policycheck import render_text as render_policy

        lines += [render_policy(policy).rstrip("\n"), ""]
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
    outputs = substitute(document["outputs"], document.get(OUTPUTS_KEY) or [], AFTER_DEPLOY)
    for key, value in sorted(outputs.items()):
        lines.append(f"    {key}: {_format_output(value)}")
    if details:
        from ops.review.details import render as render_details

        lines += ["", render_details(document).rstrip("\n")]
    # Operator insight (ops/review/cost.py, ops/review/deploytime.py): monthly cost and deploy time.
    from ops.review.cost import render_cost
    from ops.review.deploytime import render_fresh_deploy

    lines += ["", render_cost(document).rstrip("\n"), "", render_fresh_deploy(document).rstrip("\n")]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from offline.engine import PlanError, run_plan

    problem = args.manifests and unwritable(args.manifests, directory=True)
    if problem:
        print(f"error: --manifests {args.manifests}: {problem}", file=sys.stderr)
        return 2
    try:
        plan = run_plan(args.stack, root=args.root)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    document = plan_document(plan)
    if args.manifests:
        from ops.review.manifests import write_manifests

        try:
            written = write_manifests(plan, args.manifests)
        except OSError as error:
            print(f"error: --manifests {args.manifests}: {os_problem(error)}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} manifest files under {args.manifests}", file=sys.stderr)
    policy = None
    # Flags read with defaults: callers may build the Namespace themselves.
    if not getattr(args, "no_policy", False):
        from ops.review.policycheck import check

        policy = check(plan)
    if args.json:
        from ops.review.computed import published

        shown = document if getattr(args, "mock_values", False) else published(document)
        if policy is not None:
            shown["policyViolations"] = [finding.as_json() for finding in policy.findings]
        json.dump(shown, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(document, policy, details=getattr(args, "details", False)))
    sys.stdout.flush()
    try:
        warnings = warnings_of(document, args.root, getattr(args, "account", False))
    except PlanError as error:
        print(f"error: another stack of the account cannot be planned: {error}", file=sys.stderr)
        return 1
    for line in warnings:
        print(line, file=sys.stderr)
    return finish(policy)


def finish(policy: Any) -> int:
    """The exit status of a review once everything is printed: POLICY_EXIT, with the summary
    on stderr, when the policy pack has a mandatory violation."""
    if policy is None or not policy.blocks:
        return 0
    from ops.review.policycheck import POLICY_EXIT

    print(f"error: {policy.summary()}", file=sys.stderr)
    return POLICY_EXIT
