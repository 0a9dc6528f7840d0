"""`ops drift PREVIEW_JSON`: read `pulumi preview --refresh --json` and fail on drift, except
the load-balancer noise the Cloudflare provider is known to report on every plan.

terraform-provider-cloudflare#7339 (open in 2026-12, provider v5.23): a `cloudflare_load_balancer`
shows a change on every plan even when nothing changed: `+ country_pools = {}` and computed
attributes (created_on, modified_on, ...) "known after apply". pulumi-cloudflare 6.x wraps that
provider, so a daily `--expect-no-changes` would page every day. This reads the preview's steps
instead: an update of a load balancer whose changed properties are all among those computed
attributes, none of which the program sets, is reported and ignored; any other step is drift.
Whether the Pulumi bridge surfaces the same diff is for a real account to show.

The preview JSON is Pulumi's PreviewDigest (pulumi/pulumi sdk/go/common/display/json.go):
`steps[]` with `op`, `urn`, `detailedDiff` {property path: {kind, inputDiff}}, `diffReasons`,
`newState.inputs`. Only property names are printed, never values.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"
# Attributes the provider computes and the plans show changing (the attributes of
# the fix proposed in terraform-provider-cloudflare#7103, "add UseStateForUnknown to Computed
# attrs"), in the SDK's property names.
PROVIDER_NOISE = frozenset(
    {
        "countryPools",
        "popPools",
        "regionPools",
        "createdOn",
        "modifiedOn",
        "zoneName",
        "locationStrategy",
        "randomSteering",
        "sessionAffinityAttributes",
    }
)
# Steps that change nothing (engine.ResourceChanges.HasChanges leaves the same ones out).
NO_CHANGE = frozenset({"same", "read", "read-discard", "read-replacement", "refresh"})


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    properties: tuple[str, ...]  # top-level property names that differ


def top_level(path: str) -> str:
    """`sessionAffinityAttributes.drainDuration` and `countryPools["US"]` -> the property."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def type_of(urn: str) -> str:
    """The resource type of `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def steps(preview: dict[str, Any]) -> list[Step]:
    found = []
    for step in preview.get("steps") or []:
        paths = list((step.get("detailedDiff") or {}).keys()) or list(step.get("diffReasons") or [])
        found.append(Step(step["op"], step["urn"], tuple(sorted({top_level(path) for path in paths}))))
    return found


def _set_by_program(step: dict[str, Any], prop: str) -> bool:
    inputs = ((step.get("newState") or {}).get("inputs")) or {}
    return inputs.get(prop) not in (None, {}, [])


def is_provider_noise(step: dict[str, Any]) -> bool:
    """An update of a load balancer in which only computed attributes the program leaves
    unset differ (an empty diff is not noise: it is a change nobody can explain)."""
    if step.get("op") != "update" or type_of(step.get("urn", "")) != LOAD_BALANCER:
        return False
    properties = {top_level(path) for path in (step.get("detailedDiff") or {})} or set(step.get("diffReasons") or [])
    return bool(properties) and properties <= PROVIDER_NOISE and not any(_set_by_program(step, p) for p in properties)


def classify(preview: dict[str, Any]) -> tuple[list[Step], list[Step]]:
    """(drift, ignored provider noise) of a preview."""
    drift: list[Step] = []
    noise: list[Step] = []
    for raw, step in zip(preview.get("steps") or [], steps(preview), strict=True):
        if step.op in NO_CHANGE:
            continue
        (noise if is_provider_noise(raw) else drift).append(step)
    return drift, noise


def describe(step: Step) -> str:
    changed = f" ({', '.join(step.properties)})" if step.properties else ""
    return f"{step.op} {step.urn}{changed}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preview", type=Path, help="output of `pulumi preview --refresh --json`")


def run(args: argparse.Namespace) -> int:
    try:
        preview = json.loads(args.preview.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read the preview {args.preview}: {error}", file=sys.stderr)
        return 2
    drift, noise = classify(preview)
    for step in noise:
        print(f"ignored, provider noise (terraform-provider-cloudflare#7339): {describe(step)}")
    for step in drift:
        print(f"drift: {describe(step)}")
    print(f"{len(drift)} drifted, {len(noise)} ignored")
    return 1 if drift else 0
