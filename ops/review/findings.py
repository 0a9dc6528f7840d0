"""What a real deploy would stumble on that the mock engine accepts, found in plan documents
against data/platform-rules.yaml and data/kubernetes-versions.yaml: physical names two
resources would share (in one plan, or across the stacks of an account), address ranges that
overlap, values an API refuses, Kubernetes minors near or past their end, and, in a diff,
what a reviewer must not miss: clusters that serve traffic and would be replaced or removed,
in every region at once, protected resources the deploy would stop at or that lose their
protection, account-unique names that change, and version changes the program does not
apply. Each says why and what to do instead. Pure functions; `ops plan` prints one warning
line each, `ops diff` shows the loud ones first and apart (diff_render.py).
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
from ops.review.computed import is_hidden
from ops.review.diff_compare import PlanDiff, ResourceChange
from ops.review.plandoc import Document, Resource

WARNING = "warning: "


@dataclass(frozen=True)
class Finding:
    message: str
    source: str = ""
    # What a reviewer must not miss (a serving or protected resource destroyed, every region
    # at once, an account-unique name changed): the review shows these first, apart.
    loud: bool = False

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
                if isinstance(value, str) and value and not is_hidden(value):
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
    """Every input a platform would refuse (data/platform-rules.yaml allowed_values): one
    finding per problem, naming every resource that has it (five clusters with the same
    placeholder allow-list are one warning, not five)."""
    found: dict[tuple[str, str, str, str], list[str]] = {}
    for rule in platform_rules().allowed_values:
        for resource in _targets(document, rule.target):
            for where, value in values_at(resource.get("inputs") or {}, rule.path):
                if is_hidden(value):
                    continue
                problem = value_problem(rule, value)
                if problem:
                    found.setdefault((rule.what, where, problem, rule.source), []).append(resource["name"])
    return [
        Finding(f"{what} of {document.get('stack', '?')}:{', '.join(sorted(names))} ({where}): {problem} ({source})", source)
        for (what, where, problem, source), names in sorted(found.items())
    ]


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
    # Sorted: resources register concurrently, and a review must not reorder between runs.
    return sorted(
        [
            *name_collisions([document]),
            *value_problems(document),
            *version_lifecycle(document, today or datetime.date.today()),
        ],
        key=lambda finding: finding.message,
    )


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


def _serving_changes(diff: PlanDiff) -> Iterator[tuple[ResourceChange, Resource, float]]:
    """(change, the cluster, its weight before) for every cluster the change replaces or
    deletes that served traffic, or that it replaces out of rotation."""
    base = diff.base or {"resources": []}
    weights = _origin_weights(base)
    index = plandoc.by_urn(base)
    head_index = plandoc.by_urn(diff.head)
    for change in diff.changes:
        if change.type != plandoc.DOKS or change.op not in ("replace", "delete"):
            continue
        resource = index.get(change.urn) or head_index.get(change.urn)
        if resource is None:
            continue
        weight = weights.get(_generation(resource, {**index, **head_index}), 0.0)
        if change.op == "delete" and weight == 0:
            continue  # a retired generation: out of rotation, as the runbook leaves it
        yield change, resource, weight


def serving_cluster_changes(diff: PlanDiff) -> list[Finding]:
    """Clusters that serve traffic (weight above 0 in their region's pool before the change)
    and that the change would replace or remove: a replaced cluster comes back empty, with a
    new load balancer address, after minutes of nothing; the runbook never does either."""
    findings = []
    for change, _, weight in _serving_changes(diff):
        serving = f"serving {weight:g} of its region" if weight else "out of rotation"
        if change.op == "replace":
            why = ", ".join(change.replace_reasons)
            message = (
                f"cluster {change.name} ({serving}) would be REPLACED ({why}): change it through a new generation (ops upgrade)"
            )
        else:
            message = f"cluster {change.name} ({serving}) would be DELETED while it serves: promote another generation first"
        findings.append(Finding(message, loud=True))
    return findings


def every_region_at_once(diff: PlanDiff) -> list[Finding]:
    """A change that replaces or removes a serving cluster in every region of a stack that
    has more than one: no region is left to take the traffic while they come back."""
    base = diff.base or {"resources": []}
    weights = _origin_weights(base)
    index = plandoc.by_urn(base)
    serving = {
        str(cluster.get("region"))
        for cluster in plandoc.of_type(base, plandoc.DOKS)
        if weights.get(_generation(cluster, index), 0.0) > 0
    }
    hit = {str(resource.get("region")) for _, resource, weight in _serving_changes(diff) if weight > 0}
    if len(serving) < 2 or not serving <= hit:
        return []
    regions = ", ".join(sorted(serving))
    return [
        Finding(
            f"EVERY REGION at once: the serving clusters of all {len(serving)} regions ({regions}) would be replaced or "
            "removed by one deploy, leaving no region to take the traffic while they come back: change one region at "
            "a time, a new generation per region (ops upgrade REGION), one pull request each",
            loud=True,
        )
    ]


def protected_changes(diff: PlanDiff) -> list[Finding]:
    """Resources the deployed stack protects that the change would replace or delete (the
    deploy stops there: Pulumi refuses to destroy a protected resource), or whose protection
    it lifts (the next change may then destroy them). One finding per kind, naming them all."""
    if diff.base is None:
        return []
    base, head = plandoc.by_urn(diff.base), plandoc.by_urn(diff.head)
    destroyed, unprotected = [], []
    for change in diff.changes:
        before = base.get(change.urn)
        if before is None or not before.get("protect"):
            continue
        after = head.get(change.urn)
        if change.op == "replace":
            destroyed.append(f"{change.name} REPLACED ({', '.join(change.replace_reasons)})")
        elif change.op == "delete":
            destroyed.append(f"{change.name} DELETED")
        elif after is not None and not after.get("protect"):
            unprotected.append(
                change.name + (" (retainOnDelete keeps the cloud resource)" if after.get("retainOnDelete") else "")
            )
    findings = []
    if destroyed:
        findings.append(
            Finding(
                f"protected, and would be destroyed: {'; '.join(destroyed)}. `pulumi up` stops at the first, as a "
                "protected resource is never destroyed; if that is meant, lift the protection in a pull request of its "
                "own first (keep retainOnDelete where data lives), else undo the change",
                loud=True,
            )
        )
    if unprotected:
        findings.append(
            Finding(
                f"loses its protection: {', '.join(unprotected)}. From the next deploy on, a change that replaces or "
                "removes it destroys it; lift protection only in a step of its own, for the change that needs it",
                loud=True,
            )
        )
    return findings


def _shown(value: Any) -> bool:
    return isinstance(value, str) and not is_hidden(value)


def unique_name_changes(diff: PlanDiff) -> list[Finding]:
    """Physical names (and address ranges) the platform holds unique (data/platform-rules.yaml)
    that the change edits on a resource that exists."""
    if diff.base is None:
        return []
    old = plandoc.by_urn(diff.base)
    ops = {change.urn: change.op for change in diff.changes}
    findings = []
    # Names only: an address range that moves is a replaced network, which the cluster and
    # region warnings cover.
    for rule in (rule for rule in platform_rules().unique_names if not rule.overlap):
        for resource in _targets(diff.head, rule.target):
            previous = old.get(resource["urn"])
            if previous is None:
                continue
            before = dict(values_at(previous.get("inputs") or {}, rule.path))
            after = dict(values_at(resource.get("inputs") or {}, rule.path))
            for where in sorted(before.keys() & after.keys()):
                a, b = before[where], after[where]
                if a == b or not (_shown(a) and _shown(b)):
                    continue
                if ops.get(resource["urn"]) == "replace":
                    how = "it is REPLACED: a new one is made under the new name, then the old one is deleted"
                else:
                    how = "it is renamed in place: whatever finds it by its old name (doctl, dashboards, scripts, the cloud controller's load-balancer lookup) no longer does"
                findings.append(
                    Finding(
                        f"{rule.what} of {resource['name']} changes: {a!r} -> {b!r} ({rule.scope}-unique: {rule.source}); "
                        f"{how}; to move safely, make the new one beside the old (a new generation for a cluster, a new "
                        "bucket with the data copied), switch over, then retire the old",
                        rule.source,
                        loud=True,
                    )
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


def change_findings(diff: PlanDiff) -> list[Finding]:
    """What the change itself does that a reviewer must see."""
    return [
        *every_region_at_once(diff),
        *serving_cluster_changes(diff),
        *protected_changes(diff),
        *unique_name_changes(diff),
        *version_changes(diff),
    ]


def diff_findings(diff: PlanDiff, today: datetime.date | None = None) -> list[Finding]:
    """What `ops diff` warns about: the change's own findings, then the head plan's."""
    return [*change_findings(diff), *plan_findings(diff.head, today)]
