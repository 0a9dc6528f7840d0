"""How long a `pulumi up` takes: the critical path through the plan's dependency graph.

Pulumi creates a resource as soon as everything it depends on is created, so the wall
clock of a deploy is the longest chain of creation times, not their sum. The graph is the
plan's: a resource waits for its `dependencies` and its provider; a component is done when
its children are (so depending on a component waits for everything in it). Creation times per type come from
data/deploy-times.yaml, each with its source.

Two uses: a fresh deploy of a stack, and the change of a diff. A change creates what is
added or replaced and updates what changes in place, in dependency order; then, as Pulumi
does last, deletes what is removed and the old copies of what was replaced, in reverse
dependency order (a VPC only once the cluster in it is gone). Each action has its time per
type in the table. Regions are independent branches of the graph, so adding a region must
not lengthen the path; tests hold the program to that.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
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


ACTIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class TimeTable:
    types: Mapping[str, Mapping[str, Any]]
    # Per action, for a type not listed or whose entry gives no time for it.
    defaults: Mapping[str, float]

    @classmethod
    def load(cls, path: Path = TIMES_FILE) -> TimeTable:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        defaults = {action: float(data["default"][action]) for action in ACTIONS if action in data["default"]}
        return cls(types=data.get("types") or {}, defaults=defaults)

    @property
    def default(self) -> float:
        """The creation time of a type the table does not list."""
        return self.defaults["create"]

    def seconds(self, resource: Resource, action: str) -> float:
        """Typical time of one action (create, update, delete) on one resource.

        Components take none of their own: they are done when their children are. The
        exception is the creation of a component listed by its exact type: a remote
        component (Helm v4's Chart) whose children the provider registers at deploy time,
        so that the offline plan shows the component without them."""
        if not resource.get("custom", True):
            if action != "create" or resource["type"] not in self.types:
                return 0.0
            entry: Mapping[str, Any] = self.types[resource["type"]]
        else:
            entry = self.entry(resource["type"]) or {}
        inputs = resource.get("inputs") or {}
        for rule in entry.get("when") or []:
            wanted = rule.get("inputs") or {}
            if action in rule and all(_matches(plandoc.get_path(inputs, k), v) for k, v in wanted.items()):
                return float(rule[action])
        return float(entry.get(action, self.defaults[action]))

    def entry(self, type_: str) -> Mapping[str, Any] | None:
        if type_ in self.types:
            return self.types[type_]
        patterns = [p for p in self.types if p.endswith("*") and type_.startswith(p[:-1])]
        return self.types[max(patterns, key=len)] if patterns else None


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
    return critical_path(document, {r["urn"]: table.seconds(r, "create") for r in document["resources"]})


@dataclass(frozen=True)
class ChangeTime:
    """How long a change takes: creating and updating, then deleting."""

    apply: CriticalPath
    removal: CriticalPath

    @property
    def seconds(self) -> float:
        return self.apply.seconds + self.removal.seconds

    @property
    def steps(self) -> list[Step]:
        return [*self.apply.steps, *self.removal.steps]


def change_deploy(
    document: Document,
    created: Collection[str],
    table: TimeTable | None = None,
    *,
    updated: Collection[str] = (),
    base: Document | None = None,
    deleted: Collection[str] = (),
) -> ChangeTime:
    """How long applying a change to an existing stack takes: the resources in `created`
    (added or replaced) are created and those in `updated` updated, in the order of
    `document`'s graph; then the resources of `base` in `deleted` (removed, or the old copy
    of a replaced one) are deleted in reverse order. Everything else already exists."""
    table = table or TimeTable.load()
    seconds = {r["urn"]: table.seconds(r, "create") for r in document["resources"] if r["urn"] in created}
    seconds.update({r["urn"]: table.seconds(r, "update") for r in document["resources"] if r["urn"] in updated})
    removal = removal_path(base, deleted, table) if base is not None and deleted else CriticalPath(0.0, [])
    return ChangeTime(critical_path(document, seconds), removal)


def _custom_under(urn: str, index: Mapping[str, Resource], children: Mapping[str, list[Resource]]) -> Iterator[str]:
    """The URN itself for a custom resource; for a component, the custom resources in it."""
    if index[urn].get("custom", True):
        yield urn
        return
    for child in children.get(urn, []):
        yield from _custom_under(child["urn"], index, children)


def removal_path(base: Document, deleted: Collection[str], table: TimeTable) -> CriticalPath:
    """The critical path of deleting `deleted` from `base`: a resource goes only once
    everything that depends on it (or runs on it, through its provider) is gone."""
    index = plandoc.by_urn(base)
    children = plandoc.children_of(base)
    doomed = {urn for urn in deleted if urn in index and index[urn].get("custom", True)}
    waits: dict[str, set[str]] = {urn: set() for urn in doomed}
    for urn in doomed:
        resource = index[urn]
        for dependency in [*(resource.get("dependencies") or []), *([resource["provider"]] if resource.get("provider") else [])]:
            if dependency in index:
                for target in _custom_under(dependency, index, children):
                    if target in doomed and target != urn:
                        waits[target].add(urn)
    reversed_graph = {
        "resources": [
            {**index[urn], "parent": None, "provider": None, "custom": True, "dependencies": sorted(waits[urn])}
            for urn in sorted(doomed)
        ]
    }
    return critical_path(reversed_graph, {urn: table.seconds(index[urn], "delete") for urn in doomed})


def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s"


def path_summary(path: CriticalPath | ChangeTime, code: bool = False) -> str:
    """One line: "nyc3-vpc (5s) → nyc3-doks (10m 00s) → ...", steps that take time only;
    for a change, its deletions after "then deleting". `code` marks names up for Markdown."""
    if isinstance(path, ChangeTime):
        applied = path_summary(path.apply, code)
        if not path.removal.seconds:
            return applied
        deleting = f"then deleting ~{duration(path.removal.seconds)}: {path_summary(path.removal, code)}"
        return deleting if not path.apply.seconds else f"{applied}; {deleting}"
    timed = [step for step in path.steps if step.seconds]
    quote = "`" if code else ""
    return " → ".join(f"{quote}{step.name}{quote} ({duration(step.seconds)})" for step in timed) or "nothing to wait for"


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
