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


class PreviewError(ValueError):
    """A file that is not the JSON `pulumi preview --json` prints."""


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    properties: tuple[str, ...]  # top-level property names that differ
    # Inputs the program gives a value (names only: values are never kept).
    set_by_program: frozenset[str] = frozenset()


def top_level(path: str) -> str:
    """`sessionAffinityAttributes.drainDuration` and `countryPools["US"]` -> the property."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def type_of(urn: str) -> str:
    """The resource type of `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "text"}


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        found = "null" if value is None else _KINDS.get(type(value), json.dumps(value))
        raise PreviewError(f"{where} must be {_KINDS[kind]}, got {found}")
    return value


def steps(preview: Any) -> list[Step]:
    """The preview's steps; PreviewError naming the first field of the wrong shape."""
    _expect(preview, dict, "the preview")
    found = []
    for index, raw in enumerate(_expect(preview.get("steps") or [], list, "steps")):
        where = f"steps[{index}]"
        _expect(raw, dict, where)
        diff = _expect(raw.get("detailedDiff") or {}, dict, f"{where}.detailedDiff")
        reasons = _expect(raw.get("diffReasons") or [], list, f"{where}.diffReasons")
        paths = list(diff) or [_expect(reason, str, f"{where}.diffReasons[{n}]") for n, reason in enumerate(reasons)]
        new_state = _expect(raw.get("newState") or {}, dict, f"{where}.newState")
        inputs = _expect(new_state.get("inputs") or {}, dict, f"{where}.newState.inputs")
        found.append(
            Step(
                _expect(raw.get("op"), str, f"{where}.op"),
                _expect(raw.get("urn"), str, f"{where}.urn"),
                tuple(sorted({top_level(path) for path in paths})),
                frozenset(name for name, value in inputs.items() if value not in (None, {}, [])),
            )
        )
    return found


def is_provider_noise(step: Step) -> bool:
    """An update of a load balancer in which only computed attributes the program leaves
    unset differ (an empty diff is not noise: it is a change nobody can explain)."""
    if step.op != "update" or type_of(step.urn) != LOAD_BALANCER:
        return False
    properties = set(step.properties)
    return bool(properties) and properties <= PROVIDER_NOISE and not properties & step.set_by_program


def classify(preview: Any) -> tuple[list[Step], list[Step]]:
    """(drift, ignored provider noise) of a preview."""
    drift: list[Step] = []
    noise: list[Step] = []
    for step in steps(preview):
        if step.op in NO_CHANGE:
            continue
        (noise if is_provider_noise(step) else drift).append(step)
    return drift, noise


def describe(step: Step) -> str:
    changed = f" ({', '.join(step.properties)})" if step.properties else ""
    return f"{step.op} {step.urn}{changed}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preview", type=Path, help="output of `pulumi preview --refresh --json`")


def run(args: argparse.Namespace) -> int:
    try:
        # ValueError: JSONDecodeError, UnicodeDecodeError and PreviewError alike.
        drift, noise = classify(json.loads(args.preview.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        print(f"error: cannot read the preview {args.preview}: {error}", file=sys.stderr)
        return 2
    for step in noise:
        print(f"ignored, provider noise (terraform-provider-cloudflare#7339): {describe(step)}")
    for step in drift:
        print(f"drift: {describe(step)}")
    print(f"{len(drift)} drifted, {len(noise)} ignored")
    return 1 if drift else 0
