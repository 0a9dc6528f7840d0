"""What a real deploy would stumble on that the mock engine accepts, found in plan documents
against data/platform-rules.yaml and data/kubernetes-versions.yaml: physical names two
resources would share (in one plan, or across the stacks of an account), address ranges that
overlap, values an API refuses, Kubernetes minors near or past their end, and, in a diff,
clusters that serve traffic and would be replaced or removed, and version changes the
program does not apply. Pure functions; `ops plan` and `ops diff` print one warning line each.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from components.kubernetes_versions import slug_key, support
from components.platform import Target, UniqueName, platform_rules, value_problem, values_at
from ops.review import plandoc
from ops.review.diff_compare import PlanDiff
from ops.review.plandoc import Document, Resource

WARNING = "warning: "


@dataclass(frozen=True)
class Finding:
    message: str
    source: str = ""

    def line(self) -> str:
        return f"{WARNING}{self.message}"


def _targets(document: Document, target: Target) -> Iterator[Resource]:
    for resource in document["resources"]:
        by_type = target.type is not None and resource["type"] == target.type
        if by_type or (target.kubernetes is not None and plandoc.k8s_kind(resource["type"]) == target.kubernetes):
            yield resource


def _where(document: Document, resource: Resource) -> str:
    return f"{document.get('stack', '?')}:{resource['name']}"


def _scope_key(rule: UniqueName, resource: Resource) -> str:
    """Names collide within one account, one zone, or everywhere. The documents given are the
    stacks of one account; a zone is told apart by the resource's zoneId."""
    if rule.scope == "zone":
        return str((resource.get("inputs") or {}).get("zoneId", ""))
    return ""


def _claims(documents: Sequence[Document], rule: UniqueName) -> list[tuple[str, str, Any]]:
    """(scope key, where, value) of every value the rule covers, in every document."""
    claims = []
    for document in documents:
        for resource in _targets(document, rule.target):
            for _, value in values_at(resource.get("inputs") or {}, rule.path):
                if isinstance(value, str) and value and value != "[unknown]":
                    claims.append((_scope_key(rule, resource), _where(document, resource), value))
    return claims


def name_collisions(documents: Sequence[Document]) -> list[Finding]:
    """Every physical name (or address range) two resources would share, within one plan or
    across the plans of the stacks of one account."""
    findings = []
    for rule in platform_rules().unique_names:
        claims = _claims(documents, rule)
        for (scope_a, where_a, a), (scope_b, where_b, b) in itertools.combinations(claims, 2):
            if scope_a != scope_b or where_a == where_b:
                continue
            if rule.overlap:
                try:
                    clash = ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False))
                except ValueError:
                    clash = False
                shown = f"{a} and {b} overlap"
            else:
                clash, shown = a == b, f"{a!r}"
            if clash:
                findings.append(
                    Finding(f"{rule.what} {shown}: {where_a} and {where_b} ({rule.scope}-unique: {rule.source})", rule.source)
                )
    return findings


def value_problems(document: Document) -> list[Finding]:
    """Every input a platform would refuse (data/platform-rules.yaml allowed_values)."""
    findings = []
    for rule in platform_rules().allowed_values:
        for resource in _targets(document, rule.target):
            for where, value in values_at(resource.get("inputs") or {}, rule.path):
                if value == "[unknown]" or (isinstance(value, str) and value.startswith("[secret")):
                    continue
                problem = value_problem(rule, value)
                if problem:
                    findings.append(
                        Finding(f"{rule.what} of {_where(document, resource)} ({where}): {problem} ({rule.source})", rule.source)
                    )
    return findings


def version_lifecycle(document: Document, today: datetime.date) -> list[Finding]:
    """Clusters on a Kubernetes minor past, or near, its end of life."""
    findings = []
    for cluster in plandoc.of_type(document, plandoc.DOKS):
        version = (cluster.get("inputs") or {}).get("version")
        if not isinstance(version, str):
            continue
        status = support(version, today)
        if status.problem:
            findings.append(
                Finding(f"{_where(document, cluster)} runs {version}: {status.problem}", "data/kubernetes-versions.yaml")
            )
    return findings


def plan_findings(document: Document, today: datetime.date | None = None) -> list[Finding]:
    """What `ops plan` warns about in one stack's plan."""
    return [
        *name_collisions([document]),
        *value_problems(document),
        *version_lifecycle(document, today or datetime.date.today()),
    ]


def _origin_weights(document: Document | None) -> dict[str, float]:
    """Cluster (generation) name -> its weight in its region's Cloudflare pool."""
    weights: dict[str, float] = {}
    for pool in plandoc.of_type(document or {"resources": []}, plandoc.CF_POOL):
        for origin in (pool.get("inputs") or {}).get("origins") or []:
            if isinstance(origin, dict) and isinstance(origin.get("name"), str):
                weights[origin["name"]] = float(origin.get("weight") or 0)
    return weights


def _generation(resource: Resource, index: dict[str, Resource]) -> str:
    """The cluster generation a DOKS resource belongs to: its component's name."""
    parent = index.get(resource.get("parent") or "")
    return str(parent["name"]) if parent else str(resource["name"]).removesuffix("-doks")


def serving_cluster_changes(diff: PlanDiff) -> list[Finding]:
    """Clusters that serve traffic (weight above 0 in their region's pool before the change)
    and that the change would replace or remove: a replaced cluster comes back empty, with a
    new load balancer address, after minutes of nothing; the runbook never does either."""
    base = diff.base or {"resources": []}
    weights = _origin_weights(base)
    index = plandoc.by_urn(base)
    head_index = plandoc.by_urn(diff.head)
    findings = []
    for change in diff.changes:
        if change.type != plandoc.DOKS or change.op not in ("replace", "delete"):
            continue
        resource = index.get(change.urn) or head_index.get(change.urn)
        if resource is None:
            continue
        generation = _generation(resource, {**index, **head_index})
        weight = weights.get(generation, 0.0)
        if change.op == "delete" and weight == 0:
            continue  # a retired generation: out of rotation, as the runbook leaves it
        serving = f"serving {weight:g} of its region" if weight else "out of rotation"
        if change.op == "replace":
            why = ", ".join(change.replace_reasons)
            findings.append(
                Finding(
                    f"cluster {change.name} ({serving}) would be REPLACED ({why}): change it through a new generation (ops upgrade)"
                )
            )
        else:
            findings.append(
                Finding(f"cluster {change.name} ({serving}) would be DELETED while it serves: promote another generation first")
            )
    return findings


def version_changes(diff: PlanDiff) -> list[Finding]:
    """DOKS versions the stack file changed on a cluster that exists. The program ignores
    them (a cluster keeps the version it was created with; upgrades are new generations), and
    a lower one is refused outright: the provider would plan it as a new cluster."""
    if diff.base is None:
        return []
    old = plandoc.by_urn(diff.base)
    findings = []
    for resource in plandoc.of_type(diff.head, plandoc.DOKS):
        previous = old.get(resource["urn"])
        if previous is None:
            continue
        before, after = (previous.get("inputs") or {}).get("version"), (resource.get("inputs") or {}).get("version")
        if not isinstance(before, str) or not isinstance(after, str) or before == after:
            continue
        if slug_key(after) < slug_key(before):
            findings.append(
                Finding(
                    f"cluster {resource['name']}: version {after} is LOWER than the deployed {before}: refused, a downgrade is a new cluster"
                )
            )
        else:
            findings.append(
                Finding(
                    f"cluster {resource['name']}: version {before} -> {after} is not applied to a live cluster; upgrades are new generations (ops upgrade)"
                )
            )
    return findings


def diff_findings(diff: PlanDiff, today: datetime.date | None = None) -> list[Finding]:
    """What `ops diff` warns about: the head plan's findings and the change's own."""
    return [*plan_findings(diff.head, today), *serving_cluster_changes(diff), *version_changes(diff)]
