"""How long a `pulumi up` takes: the critical path through the plan's dependency graph.

Pulumi creates a resource as soon as everything it depends on is created, so the wall
clock of a deploy is the longest chain of creation times, not their sum. The graph is the
plan's: a resource waits for its `dependencies` and its provider; a component is done when
its children are (so depending on a component waits for everything in it). Creation times per type come from
data/deploy-times.yaml, each with its source.

Two uses: a fresh deploy of a stack, and the change of a diff, where only resources created
or replaced take time. Regions are independent branches of the graph, so adding a region
must not lengthen the path; tests hold the program to that.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from offline.stack_config import ROOT
from ops.review import plandoc
from ops.review.plandoc import Document, Resource

TIMES_FILE = ROOT / "data" / "deploy-times.yaml"


def _matches(value: Any, expected: Any) -> bool:
    if isinstance(expected, str) and isinstance(value, str):
        # Charts are named plainly or by a repository reference that ends in the name.
        return value == expected or value.endswith(f"/{expected}")
    return bool(value == expected)


@dataclass(frozen=True)
class TimeTable:
    default: float
    types: Mapping[str, Mapping[str, Any]]

    @classmethod
    def load(cls, path: Path = TIMES_FILE) -> TimeTable:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return cls(default=float(data["default"]["create"]), types=data.get("types") or {})

    def entry(self, type_: str) -> Mapping[str, Any] | None:
        if type_ in self.types:
            return self.types[type_]
        patterns = [p for p in self.types if p.endswith("*") and type_.startswith(p[:-1])]
        return self.types[max(patterns, key=len)] if patterns else None

    def create_seconds(self, resource: Resource) -> float:
        """Typical creation time of one resource.

        Components take none of their own: they are done when their children are. The
        exception is a component listed by its exact type: a remote component (Helm v4's
        Chart) whose children the provider registers at deploy time, so that the offline
        plan shows the component without them."""
        if not resource.get("custom", True):
            if resource["type"] not in self.types:
                return 0.0
            entry: Mapping[str, Any] | None = self.types[resource["type"]]
        else:
            entry = self.entry(resource["type"])
        if entry is None:
            return self.default
        for rule in entry.get("when") or []:
            wanted = rule.get("inputs") or {}
            if all(_matches(plandoc.get_path(resource.get("inputs") or {}, k), v) for k, v in wanted.items()):
                return float(rule["create"])
        return float(entry["create"])


@dataclass(frozen=True)
class Step:
    urn: str
    name: str
    type: str
    seconds: float
    start: float
    finish: float


@dataclass(frozen=True)
class CriticalPath:
    seconds: float
    # The custom resources on the path, in the order they run (resources that take no
    # time, such as providers or unchanged resources in a change, included).
    steps: list[Step]


class DependencyCycle(ValueError):
    pass


def schedule(document: Document, seconds: Mapping[str, float]) -> dict[str, tuple[float, float, str | None]]:
    """urn -> (start, finish, the urn that made it wait longest) with unlimited parallelism."""
    index = plandoc.by_urn(document)
    children = plandoc.children_of(document)
    result: dict[str, tuple[float, float, str | None]] = {}
    visiting: list[str] = []

    def visit(urn: str) -> float:
        if urn in result:
            return result[urn][1]
        if urn in visiting:
            cycle = [*visiting[visiting.index(urn) :], urn]
            raise DependencyCycle("dependency cycle: " + " -> ".join(index[u]["name"] for u in cycle))
        visiting.append(urn)
        resource = index[urn]
        # Depending on one's own ancestor would wait for oneself; the engine ignores that too.
        ancestors = {a["urn"] for a in plandoc.ancestors(resource, index)}
        start, waited_for = 0.0, None
        # A resource also waits for its provider, which for Kubernetes waits for the cluster
        # its kubeconfig comes from; the SDK does not list the provider among dependencies.
        waits_for = sorted({*(resource.get("dependencies") or []), *([resource["provider"]] if resource.get("provider") else [])})
        for dependency in waits_for:
            if dependency in index and dependency not in ancestors:
                finish = visit(dependency)
                if finish > start or waited_for is None:
                    start, waited_for = max(start, finish), dependency
        # A component's own time is 0 unless it is an unexpanded remote component.
        finish, last = start + seconds.get(urn, 0.0), waited_for
        if not resource.get("custom", True):
            for child in plandoc.by_name(children.get(urn, [])):
                child_finish = visit(child["urn"])
                if child_finish > finish or last is None:
                    finish, last = max(finish, child_finish), child["urn"]
        visiting.pop()
        result[urn] = (start, finish, last)
        return finish

    for resource in plandoc.by_name(document["resources"]):
        visit(resource["urn"])
    return result


def critical_path(document: Document, seconds: Mapping[str, float]) -> CriticalPath:
    """The longest chain through the graph, given each resource's time."""
    if not document["resources"]:
        return CriticalPath(0.0, [])
    times = schedule(document, seconds)
    index = plandoc.by_urn(document)
    # The latest finish; among equals the first by name, so the answer is stable.
    end = max(plandoc.by_name(document["resources"]), key=lambda r: times[r["urn"]][1])["urn"]
    steps: list[Step] = []
    current: str | None = end
    seen: set[str] = set()
    while current is not None and current not in seen:
        seen.add(current)
        resource = index[current]
        start, finish, previous = times[current]
        if resource.get("custom", True) or seconds.get(current):
            steps.append(Step(current, resource["name"], resource["type"], seconds.get(current, 0.0), start, finish))
        current = previous
    steps.reverse()
    return CriticalPath(times[end][1], steps)


def fresh_deploy(document: Document, table: TimeTable | None = None) -> CriticalPath:
    """The critical path of `pulumi up` creating the whole stack."""
    table = table or TimeTable.load()
    return critical_path(document, {r["urn"]: table.create_seconds(r) for r in document["resources"]})


def change_deploy(document: Document, created: Collection[str], table: TimeTable | None = None) -> CriticalPath:
    """The critical path of applying a change to an existing stack: only the resources in
    `created` (added or replaced) take time, everything else already exists."""
    table = table or TimeTable.load()
    return critical_path(document, {r["urn"]: table.create_seconds(r) for r in document["resources"] if r["urn"] in created})


def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s"


def path_summary(path: CriticalPath) -> str:
    """One line: "nyc3-vpc (5s) → nyc3-doks (10m 00s) → ...", steps that take time only."""
    timed = [step for step in path.steps if step.seconds]
    return " → ".join(f"{step.name} ({duration(step.seconds)})" for step in timed) or "nothing to wait for"


def render_path(path: CriticalPath, title: str) -> str:
    lines = [f"{title}: ~{duration(path.seconds)}"]
    width = max((len(step.name) for step in path.steps), default=0)
    for step in path.steps:
        if step.seconds:
            lines.append(f"    at {duration(step.start):>8}  +{duration(step.seconds):<8} {step.name:<{width}}  {step.type}")
    return "\n".join(lines) + "\n"


def render_fresh_deploy(document: Document) -> str:
    """The critical path `ops plan` prints under the plan."""
    return render_path(fresh_deploy(document), "Deploy time of a fresh `pulumi up` (critical path, data/deploy-times.yaml)")
