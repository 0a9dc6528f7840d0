"""The shape of the code base: no import circles between the project's modules, no module
that has grown past what one reader holds in mind, and a test module beside each module.

Imports are read with `ast`, so a circle through an import made only for type checking or
inside a function counts too: either is a circle a reader has to untangle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from offline.stack_config import ROOT

PACKAGES = ("components", "offline", "ops", "policy")
# About 500 lines: past this a module is split by what its parts do.
MAX_MODULE_LINES = 520


def project_modules() -> dict[str, Path]:
    modules = {"__main__": ROOT / "__main__.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_modules(path: Path, known: set[str]) -> Iterator[str]:
    """The project modules a module imports, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name` the module.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            module = name
            while module and module not in known:
                module = module.rpartition(".")[0]
            if module:
                yield module


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: set(imported_modules(path, known)) - {name} for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_project_has_no_import_circles() -> None:
    graph = import_graph()
    assert "components.settings.stack" in graph["components.cluster"] or "components.settings" in graph["components.cluster"]
    assert circles(graph) == []


def test_a_circle_is_found_however_it_is_closed() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_a_type_checking_import_closes_a_circle(tmp_path: Path) -> None:
    module = tmp_path / "catalog.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from components.monitoring import Monitoring\n")
    assert set(imported_modules(module, {"components.monitoring", "components"})) == {"components.monitoring"}


def test_no_module_is_over_about_500_lines() -> None:
    long = {
        name: lines
        for name, path in project_modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_each_tested_module_has_its_tests_at_the_mirrored_path() -> None:
    """tests/<package>/test_<module>.py mirrors <package>/<module>.py (test_<module>_<aspect>.py
    for one aspect of it): no test module stands for a module that does not exist."""
    modules = set(project_modules())
    orphans = []
    for test in sorted((ROOT / "tests").rglob("test_*.py")):
        relative = test.relative_to(ROOT / "tests")
        if len(relative.parts) == 1:
            continue  # whole-program tests: stacks, workflows, secrets, layout
        subject = ".".join((*relative.parts[:-1], relative.stem.removeprefix("test_")))
        if not any(subject == module or subject.startswith(f"{module}_") for module in modules):
            orphans.append(str(relative))
    assert orphans == []
