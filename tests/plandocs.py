"""Plan documents for the insight tools' tests: real plans of the program (cached, see
tests/conftest.py), the settings they were planned from, the stack files of an upgrade's
steps, and small helpers to edit a copy where a test needs something the program does
not declare (an unsized Service of type LoadBalancer, a dependency cycle)."""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping, Sequence
from typing import Any

from components.settings import StackSettings, parse_settings
from offline.stack_config import ROOT, load_stack_config
from ops.review.plan import plan_document
from tests.conftest import plan_of

Document = dict[str, Any]

# The regions a test adds to the one-region dev stack: the cheapest plan with two pools.
DEV_TWO_REGIONS = {"marketplace:regions": ["nyc3", "fra1"]}


def overrides_for(regions: Sequence[str] | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    overrides = {**({"marketplace:regions": list(regions)} if regions else {}), **(extra or {})}
    return overrides or None


def real(
    stack: str,
    regions: Sequence[str] | None = None,
    *,
    stack_text: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Document:
    """The plan document of a stack, optionally with other regions, another stack file or
    other keys; a fresh copy, so a test may edit it."""
    plan = plan_of(stack, stack_text=stack_text, overrides=overrides_for(regions, overrides))
    return copy.deepcopy(plan_document(plan))


def settings_of(stack: str, regions: Sequence[str] | None = None) -> StackSettings:
    """The settings a stack's plan was made from, as the program parsed them."""
    config = plan_of(stack, overrides=overrides_for(regions)).config
    return parse_settings(stack, config.values, config.secret_keys)


def upgrade_steps(
    stack: str, region: str, to: str, steps: Sequence[str], *, regions: Sequence[str] | None = None, canary_weight: float = 0.1
) -> list[str]:
    """The stack file after each of `steps` of `ops upgrade REGION --to TO`, as the command
    writes it (ops/live/upgrade.py); plan them with `real(stack, regions, stack_text=...)`."""
    from ops.live.upgrade import _yaml, next_step

    yaml = _yaml()
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    document = yaml.load(text)
    texts = []
    for step in steps:
        values = load_stack_config(stack, stack_text=text, overrides=overrides_for(regions)).values
        next_step(document, dict(values), region, to, step, canary_weight=canary_weight)
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        text = buffer.getvalue()
        texts.append(text)
    return texts


def add(
    document: Document,
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    region: str | None = None,
    parent: str | None = None,
    provider: str | None = None,
    dependencies: list[str] | None = None,
    custom: bool = True,
) -> str:
    """Add a resource the program does not declare; returns its URN."""
    urn = f"urn:pulumi:{document['stack']}::{document['project']}::{type_}::{name}"
    assert urn not in {r["urn"] for r in document["resources"]}, f"{urn} is already in the plan"
    document["resources"].append(
        {
            "urn": urn,
            "type": type_,
            "name": name,
            "parent": parent,
            "custom": custom,
            "provider": provider,
            "region": region,
            "inputs": inputs or {},
            "dependencies": dependencies or [],
            "protect": False,
            "retainOnDelete": False,
        }
    )
    return urn


def find(document: Document, type_: str, name: str) -> dict[str, Any]:
    matches = [r for r in document["resources"] if r["type"] == type_ and r["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {type_} named {name}"
    return matches[0]


GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
SERVICE = "kubernetes:core/v1:Service"
