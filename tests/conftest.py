"""Shared fixtures: plans run in this one process on the offline engine and are cached,
so the whole suite imports the SDKs once."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pytest

from ops.engine import Plan, PlanError, run_plan

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


class Early(Protocol):
    def close(self) -> None: ...


# What a test marked `start_early` finds in `request.node.stash[EARLY]`.
EARLY = pytest.StashKey[Any]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Before the first test runs, start what each test marked `start_early(start=...)` needs:
    `start(directory)` sets up in a fresh directory and starts other processes, returning
    a handle (with `close()`) the test finds in its stash.

    For work that spends seconds in other processes: `ops diff` against a git revision
    imports the cloud SDKs twice. Started here it runs on another core beside the tests
    before it, instead of after them."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        marker = item.get_closest_marker("start_early")
        if marker is None:
            continue
        directory = Path(tempfile.mkdtemp(prefix="early-"))
        # Cleanups run last first: the processes stop before their directory goes.
        session.config.add_cleanup(partial(shutil.rmtree, directory, ignore_errors=True))
        try:
            handle: Early = marker.kwargs["start"](directory)
        except Exception as error:  # the test fails with it, not the session
            item.stash[EARLY] = error
            continue
        session.config.add_cleanup(handle.close)
        item.stash[EARLY] = handle


def early(request: pytest.FixtureRequest) -> Any:
    """The handle `start_early` made for this test (started now if the hook did not run)."""
    if EARLY not in request.node.stash:
        marker = request.node.get_closest_marker("start_early")
        handle = marker.kwargs["start"](request.getfixturevalue("tmp_path"))
        request.addfinalizer(handle.close)
        request.node.stash[EARLY] = handle
    found = request.node.stash[EARLY]
    if isinstance(found, Exception):
        raise found
    return found
