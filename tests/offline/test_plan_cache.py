"""The plan cache: a key for everything that can change a plan, one planner per key across
processes, and nothing stale or half-written ever read."""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from offline import plan_cache
from offline.plan_cache import PlanCache, entry_name, program_digest, program_paths
from offline.stack_config import ROOT
from tests.test_layout import import_graph, project_modules


def copy_of_program(tmp_path: Path) -> Path:
    root = tmp_path / "program"
    for path in program_paths(ROOT):
        target = root / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


def test_every_module_the_program_imports_is_part_of_the_key():
    graph = import_graph()
    reached, todo = set(), ["__main__"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph.get(module, ()))
    keyed = set(program_paths(ROOT))
    modules = project_modules()
    assert len(reached) > 10
    assert sorted(name for name in reached if modules[name] not in keyed) == []
    # ...and the files it reads: prices, deploy times, the origin-pull CA.
    assert {path.name for path in keyed if path.parent.name == "data"} >= {"prices.yaml", "cloudflare-origin-pull-ca.pem"}
    assert {path.name for path in keyed if path.name.startswith("Pulumi.")} >= {"Pulumi.yaml", "Pulumi.production.yaml"}


def test_a_change_to_the_program_or_its_surroundings_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = copy_of_program(tmp_path)
    before = program_digest(root)
    assert program_digest(root) == before

    edge = root / "components" / "edge.py"
    edge.write_text(edge.read_text() + "\n# a comment is a change too\n")
    after_source = program_digest(root)
    (root / "Pulumi.staging.yaml").write_text((root / "Pulumi.staging.yaml").read_text() + "\n")
    after_stack = program_digest(root)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "another")
    after_environment = program_digest(root)

    class Upgraded:
        metadata = {"Name": "pulumi"}
        version = "99.0.0"

    monkeypatch.setattr(plan_cache.metadata, "distributions", lambda: [Upgraded()])
    after_sdk = program_digest(root)
    assert len({before, after_source, after_stack, after_environment, after_sdk}) == 5


def test_the_arguments_of_a_plan_are_part_of_the_key():
    program = "f" * 64
    names = {
        entry_name(program, "dev", None, None),
        entry_name(program, "staging", None, None),
        entry_name(program, "dev", "config: {}\n", None),
        entry_name(program, "dev", None, {"marketplace:regions": ["nyc3"]}),
        entry_name(program, "dev", None, {"marketplace:regions": ["fra1"]}),
    }
    assert len(names) == 5
    # No overrides and empty overrides are the same plan; key order does not matter.
    assert entry_name(program, "dev", None, None) == entry_name(program, "dev", None, {})
    assert entry_name(program, "dev", None, {"a": 1, "b": 2}) == entry_name(program, "dev", None, {"b": 2, "a": 1})


def _slow_planner(log: str) -> Any:
    def plan(stack: str, stack_text: str | None = None, overrides: Any = None) -> dict[str, Any]:
        with open(log, "a") as handle:
            handle.write(f"{stack}\n")
        time.sleep(0.3)
        return {"stack": stack, "overrides": overrides}

    return plan


def _ask(directory: str, log: str, results: Any) -> None:
    cache = PlanCache(Path(directory), _slow_planner(log))
    cache._program = "0" * 64  # the digest of the real program is not what this test is about
    results.put(cache.get("staging", overrides={"k": 1}))


def test_processes_asking_at_once_plan_once_and_read_the_same_plan(tmp_path: Path):
    log = tmp_path / "planned.log"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_ask, args=(str(tmp_path / "cache"), str(log), results)) for _ in range(3)]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert log.read_text() == "staging\n"
    assert got == [{"stack": "staging", "overrides": {"k": 1}}] * 3
    # Written by rename: no temporary file is left behind.
    assert sorted(path.suffix for path in (tmp_path / "cache").iterdir()) == [".lock", ".plan"]


def test_an_unreadable_entry_is_planned_again_and_refusals_are_never_kept(tmp_path: Path):
    calls: list[str] = []

    def planner(stack: str, stack_text: str | None = None, overrides: Any = None) -> str:
        calls.append(stack)
        if stack == "refused":
            raise ValueError("refused")
        return f"plan of {stack}"

    cache = PlanCache(tmp_path, planner)
    cache._program = "1" * 64
    assert cache.get("dev") == "plan of dev"
    assert cache.get("dev") == "plan of dev"
    (entry,) = tmp_path.glob("*.plan")
    entry.write_bytes(pickle.dumps("plan of dev")[:5])
    assert cache.get("dev") == "plan of dev"
    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get("refused")
    assert calls == ["dev", "dev", "refused", "refused"]


def test_prune_keeps_only_the_current_programs_entries(tmp_path: Path):
    cache = PlanCache(tmp_path, lambda stack, **_: stack)
    cache._program = "2" * 64
    cache.get("dev")
    stale = tmp_path / f"{'3' * 16}-{'0' * 32}.plan"
    stale.write_bytes(b"old")
    assert cache.prune() == [stale]
    assert [path.suffix for path in sorted(tmp_path.iterdir())] == [".lock", ".plan"]
