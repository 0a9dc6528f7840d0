"""Shared fixtures: plans run in this one process on the offline engine and are cached,
so the whole suite imports the SDKs once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from offline.engine import Plan, PlanError, run_plan

STACKS = ("dev", "staging", "production", "dev-alice")

_cache: dict[tuple[str, str | None, str], Plan] = {}


def plan_of(stack: str, stack_text: str | None = None, overrides: Mapping[str, Any] | None = None) -> Plan:
    """The plan of a stack (optionally with its file replaced or keys overridden), cached."""
    key = (stack, stack_text, json.dumps(overrides or {}, sort_keys=True))
    if key not in _cache:
        _cache[key] = run_plan(stack, stack_text=stack_text, overrides=overrides)
    return _cache[key]


def plan_error(stack: str, stack_text: str | None = None, overrides: Mapping[str, Any] | None = None) -> str:
    """The message a refused stack stops with; fails the test if it plans or if anything
    was declared before the refusal."""
    with pytest.raises(PlanError) as caught:
        run_plan(stack, stack_text=stack_text, overrides=overrides)
    assert caught.value.declared == 0, f"{caught.value.declared} resources declared before: {caught.value}"
    return str(caught.value)


@pytest.fixture(params=STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    return plan_of(request.param)


@pytest.fixture
def planner() -> Callable[..., Plan]:
    return plan_of
