"""Shared fixtures: plans run on the offline engine and are cached on disk (offline/plan_cache.py),
so the suite plans each stack, replaced stack file or override once, whichever worker asks
first, and the other workers read that plan. Refusals are never cached: `plan_error` runs the
program every time, so it proves nothing was declared before the refusal."""

from __future__ import annotations

import gc
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

from offline.engine import Plan, PlanError, run_plan
from offline.plan_cache import PlanCache, locked
from offline.stack_config import ROOT

STACKS = ("dev", "staging", "production", "dev-alice")
T = TypeVar("T")

# Git-ignored; `make clean` removes it.
PLAN_CACHE = PlanCache(ROOT / ".plan-cache", run_plan)
_in_memory: dict[tuple[str, str | None, str], Plan] = {}


def once_per_session(factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], T]) -> T:
    """What `produce` makes in a fresh folder, made once per test session whichever worker asks
    first; the others wait for it and read it (its result must pickle)."""
    shared = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's folder, above each worker's own
    result = shared / f"{name}.pickle"
    with locked(shared / f"{name}.lock"):
        if result.exists():
            made: T = pickle.loads(result.read_bytes())
            return made
        shutil.rmtree(shared / name, ignore_errors=True)  # left by a worker whose `produce` failed
        (shared / name).mkdir()
        made = produce(shared / name)
        result.write_bytes(pickle.dumps(made))
        return made


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    # Collecting imports the cloud SDKs: millions of objects that live as long as the worker.
    # Without this, the collector's full passes walk them all, again and again, and took a
    # fifth of each worker's time. Frozen, they are left out of every later pass.
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


# The whole suite's standing budget on the machines (two cores, `make unit`), in seconds.
# Not a test: a loaded machine would fail it. Each run says where it stands.
BUDGET = 60
_started: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    # In the controlling process only (xdist workers have `workerinput`), before any worker plans.
    if not hasattr(session.config, "workerinput"):
        PLAN_CACHE.prune()
        _started.append(time.perf_counter())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _started and not terminalreporter.config.option.file_or_dir:  # the whole suite, not a part
        seconds = time.perf_counter() - _started[0]
        over = seconds > BUDGET
        verdict = f"over the budget of {BUDGET} s: find the slow tests with --durations=20" if over else f"budget {BUDGET} s"
        terminalreporter.write_line(f"whole suite: {seconds:.0f} s ({verdict})", yellow=over)


def plan_of(stack: str, stack_text: str | None = None, overrides: Mapping[str, Any] | None = None) -> Plan:
    """The plan of a stack (optionally with its file replaced or keys overridden), cached.
    Shared: a test may read it, and copies what it changes (tests/policy_fixtures.py)."""
    key = (stack, stack_text, json.dumps(overrides or {}, sort_keys=True))
    if key not in _in_memory:
        _in_memory[key] = PLAN_CACHE.get(stack, stack_text, overrides)
    return _in_memory[key]


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


@pytest.fixture
def commands_plan_from_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ops` commands get their plans from the cache: for tests of what a command prints or
    writes. What planning logs is audited on real runs (tests/test_secrets_audit.py)."""

    def cached(stack: str, root: Path = ROOT) -> Plan:
        assert root == ROOT, "a command planning another checkout must run the engine"
        return plan_of(stack)

    monkeypatch.setattr("offline.engine.run_plan", cached)
