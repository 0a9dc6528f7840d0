"""`ops diff`: what a change does to a stack, from two offline plans, without a cloud account.

The working tree is planned in this process; the base revision (default: the merge base
with main) is unpacked into a temporary directory and planned there by its own code in a
separate process, so each side plans its own program, stack files and components. The two
plan documents are compared by URN, like a preview: resources added (+), deleted (-),
updated in place (~) or replaced (+-, when a property the provider cannot change in place
changes). Secrets never print: a change inside one shows as "[secret] changed".

`--markdown` writes the pull-request comment: a summary, the change in monthly cost and in
deploy time, and a collapsible section per region or component.

The pure parts (`diff_documents`, `render_text`, `render_markdown`) take plan documents,
so tests call them without git.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import io
import json
import os
import re
import secrets
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.stack_config import ROOT
from ops.review import plandoc
from ops.review.plandoc import Document, Resource

# Properties whose change the provider cannot apply in place: it replaces the resource
# (ForceNew in the upstream Terraform schemas the providers are bridged from). Keep this
# table small and sure; a missing entry shows as an update, which a real preview corrects.
REPLACE_PROPERTIES: dict[str, tuple[str, ...]] = {
    # nodePool.size: the default pool's Droplet size cannot be resized in place.
    plandoc.DOKS: ("region", "vpcUuid", "clusterSubnet", "serviceSubnet", "nodePool.size"),
    plandoc.NODE_POOL: ("clusterId", "size"),
    plandoc.VPC: ("ipRange", "region"),
    plandoc.BUCKET: ("region", "name"),
    plandoc.BUCKET_CORS: ("bucket", "region"),
    plandoc.CDN: ("origin",),
    plandoc.DO_LOAD_BALANCER: ("region", "vpcUuid"),
    plandoc.DO_PROJECT_RESOURCES: ("project",),
    plandoc.CF_LOAD_BALANCER: ("zoneId",),
    plandoc.CF_POOL: ("accountId",),
    plandoc.CF_MONITOR: ("accountId",),
    plandoc.CF_DNS_RECORD: ("zoneId",),
    "cloudflare:index/originCaCertificate:OriginCaCertificate": ("csr", "hostnames", "requestType", "requestedValidity"),
    plandoc.HELM_RELEASE: ("name", "namespace"),
}
# Every other Kubernetes object is identified by its name and namespace.
KUBERNETES_REPLACE_PROPERTIES = ("metadata.name", "metadata.namespace")
# Properties that replace the resource only when what they refer to is created anew: a
# provider pointed at a new cluster is a new provider, but a rotated token is not.
REFERENCE_REPLACE_PROPERTIES: dict[str, tuple[str, ...]] = {plandoc.K8S_PROVIDER: ("kubeconfig",)}

_SECRET = re.compile(r"^\[secret(?::[0-9a-f]+)?\]$")
_FINGERPRINT_ENV = "OPS_DIFF_FINGERPRINT_KEY"
# Room under GitHub's 65,536-character comment limit for the other stacks' sections.
MARKDOWN_LIMIT = 25_000
VALUE_WIDTH = 80
PROPERTY_LINES = 25


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


class _AfterDeploy:
    def __repr__(self) -> str:
        return "(known after deploy)"


# The new value of a property that refers to a resource created anew: its id or address
# exists only once the deploy has made it.
AFTER_DEPLOY: Any = _AfterDeploy()


def is_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(_SECRET.match(value))


def fingerprint_secrets(value: Any, key: bytes) -> Any:
    """A copy with each secret replaced by "[secret:<keyed digest>]": two plans can tell
    whether a secret changed, and the digest, keyed by a random key of this run only,
    says nothing about the value. Digests never print."""
    from offline.engine import SecretValue, reveal

    if isinstance(value, SecretValue):
        plain = json.dumps(reveal(value), sort_keys=True, default=str)
        return f"[secret:{hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()[:16]}]"
    if isinstance(value, dict):
        return {k: fingerprint_secrets(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [fingerprint_secrets(v, key) for v in value]
    return value


def scrub(value: Any) -> Any:
    """Fingerprints back to a plain "[secret]" before anything is shown."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    secret: bool = False
    replaces: bool = False


def _secret_changed(before: Any, after: Any) -> bool:
    if before == after:
        return False
    # A plain "[secret]" comes from a plan whose engine could not fingerprint (an older
    # base revision): next to another secret there is nothing to compare.
    return not (is_secret(before) and is_secret(after) and "[secret]" in (before, after))


def _named(items: list[Any]) -> dict[str, Any] | None:
    """Lists of objects with unique names (pool origins, containers) pair up by name, so
    inserting one does not show every later one as changed."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    names = {i["name"]: i for i in items}
    return names if len(names) == len(items) else None


def compare(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """Every changed leaf between two property values, by path ("nodePool.maxNodes")."""
    if before is after or before == after:
        return []
    if is_secret(before) or is_secret(after):
        return [PropertyChange(path, before, after, secret=True)] if _secret_changed(before, after) else []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[PropertyChange] = []
        # By key: a base planned in another process comes back as sorted JSON, the working
        # tree's plan in the program's order; the same change must read the same.
        for key in sorted({*before, *after}, key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes += compare(before.get(key, MISSING), after.get(key, MISSING), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        old, new = _named(before), _named(after)
        if old is not None and new is not None:
            changes = []
            for name in [*old, *(n for n in new if n not in old)]:
                changes += compare(old.get(name, MISSING), new.get(name, MISSING), f"{path}[{name}]")
            return changes
        if len(before) == len(after) and any(isinstance(i, (dict, list)) for i in [*before, *after]):
            changes = []
            for i, (a, b) in enumerate(zip(before, after, strict=True)):
                changes += compare(a, b, f"{path}[{i}]")
            return changes
    if _contains_secret(before) or _contains_secret(after):
        return [PropertyChange(path, before, after, secret=True)]
    return [PropertyChange(path, before, after)]


def _version_key(version: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(version)))


def replace_reasons(type_: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The properties whose change makes the provider replace the resource."""
    properties: tuple[str, ...]
    if type_.startswith("kubernetes:") and type_ != plandoc.HELM_RELEASE:
        properties = KUBERNETES_REPLACE_PROPERTIES
    else:
        properties = REPLACE_PROPERTIES.get(type_, ())
    reasons = [p for p in properties if compare(plandoc.get_path(before, p, MISSING), plandoc.get_path(after, p, MISSING))]
    # DOKS upgrades a cluster in place; only a lower version means a new cluster.
    old_version, new_version = _version_key(before.get("version")), _version_key(after.get("version"))
    if type_ == plandoc.DOKS and old_version and new_version and new_version < old_version:
        reasons.append("version (downgrade)")
    return reasons


def _overlaps(path: str, reasons: list[str]) -> bool:
    """Whether a changed property is (inside) one that forces the replacement."""
    plain = re.sub(r"\[[^\]]*\]", "", path)
    return any(plain == r or plain.startswith(f"{r}.") or r.startswith(f"{plain}.") for r in (x.split(" ")[0] for x in reasons))


@dataclass(frozen=True)
class ResourceChange:
    op: str  # create | delete | update | replace
    urn: str
    type: str
    name: str
    group: str
    properties: list[PropertyChange] = field(default_factory=list)
    replace_reasons: list[str] = field(default_factory=list)


OPS = ("create", "update", "replace", "delete")
SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "+-"}


@dataclass(frozen=True)
class PlanDiff:
    project: str
    stack: str
    base: Document | None
    head: Document
    changes: list[ResourceChange]
    unchanged: int
    outputs: list[PropertyChange]
    # Why the base has no plan of the stack (then everything is added).
    base_note: str | None = None

    def count(self, op: str) -> int:
        return sum(1 for change in self.changes if change.op == op)

    @property
    def created(self) -> set[str]:
        """URNs that a deploy of this change creates (added, or replaced: created anew)."""
        return {c.urn for c in self.changes if c.op in ("create", "replace")}

    def summary(self) -> str:
        return (
            f"{self.count('create')} to add, {self.count('update')} to change, "
            f"{self.count('replace')} to replace, {self.count('delete')} to delete"
        )


_OPTIONS = (("protect", "[protect]"), ("retainOnDelete", "[retainOnDelete]"))


def _paired(old: Mapping[str, Resource], new: Mapping[str, Resource]) -> dict[str, str]:
    """head URN -> base URN for resources the program moved with an alias (a full URN)."""
    pairs = {}
    for urn, resource in new.items():
        if urn in old:
            pairs[urn] = urn
            continue
        for alias in resource.get("aliases") or []:
            if alias in old and alias not in new:
                pairs[urn] = alias
                break
    return pairs


def _property_changes(previous: Resource, resource: Resource) -> list[PropertyChange]:
    changes = compare(previous.get("inputs") or {}, resource.get("inputs") or {})
    changes += [
        PropertyChange(label, bool(previous.get(key)), bool(resource.get(key)))
        for key, label in _OPTIONS
        if bool(previous.get(key)) != bool(resource.get(key))
    ]
    if previous["urn"] != resource["urn"]:
        changes.append(PropertyChange("[urn]", previous["urn"], resource["urn"]))
    return changes


def _knock_on(resource: Resource, created: Mapping[str, Resource]) -> list[str]:
    """Why a resource is replaced because something it refers to is created anew.

    The mock engine gives a re-created resource the same id, so a reference to it looks
    unchanged; a real preview sees an unknown new id in a property the provider cannot
    change in place, and replaces. Needs the head plan's propertyDependencies."""
    type_ = resource["type"]
    reasons = []
    by_property = resource.get("propertyDependencies") or {}
    for path in (*REPLACE_PROPERTIES.get(type_, ()), *REFERENCE_REPLACE_PROPERTIES.get(type_, ())):
        for urn in by_property.get(path.split(".")[0], []):
            if urn in created:
                reasons.append(f"{path} refers to new {created[urn]['name']}")
    # A Kubernetes object belongs to one cluster: a new provider means a new cluster.
    provider = resource.get("provider") or ""
    if type_.startswith("kubernetes:") and provider in created:
        reasons.append(f"provider {created[provider]['name']} is new")
    return reasons


def _known_after_deploy(previous: Resource, resource: Resource, created: Mapping[str, Resource]) -> list[PropertyChange]:
    """The properties of an otherwise unchanged resource that refer to a resource created
    anew (needs the head plan's propertyDependencies)."""
    changes = []
    for key, urns in sorted((resource.get("propertyDependencies") or {}).items()):
        if any(urn in created for urn in urns):
            changes.append(PropertyChange(key, (previous.get("inputs") or {}).get(key, MISSING), AFTER_DEPLOY))
    return changes


def diff_documents(base: Document | None, head: Document, base_note: str | None = None) -> PlanDiff:
    """The changes from `base` (None: the stack does not exist there) to `head`."""
    old = plandoc.by_urn(base) if base else {}
    new = plandoc.by_urn(head)
    pairs = _paired(old, new)
    ops: dict[str, str | None] = {}
    properties: dict[str, list[PropertyChange]] = {}
    reasons: dict[str, list[str]] = {}
    for urn, resource in new.items():
        if urn not in pairs:
            ops[urn] = "create"
            continue
        previous = old[pairs[urn]]
        properties[urn] = _property_changes(previous, resource)
        reasons[urn] = replace_reasons(resource["type"], previous.get("inputs") or {}, resource.get("inputs") or {})
        ops[urn] = "replace" if reasons[urn] else "update" if properties[urn] else None

    # Replacements travel along references until nothing more changes.
    while True:
        created = {urn: new[urn] for urn, op in ops.items() if op in ("create", "replace")}
        knocked = {}
        for urn in pairs:
            if ops[urn] != "replace":
                found = _knock_on(new[urn], created)
                if found:
                    knocked[urn] = found
        if not knocked:
            break
        for urn, found in knocked.items():
            ops[urn] = "replace"
            reasons[urn] = reasons[urn] + found

    # The mock engine gives a re-created resource its old id and outputs, so what refers to
    # it looks unchanged; a real preview shows those properties changing to values known
    # only after the deploy (a replaced Gateway's new address in its pool's origins).
    created = {urn: new[urn] for urn, op in ops.items() if op in ("create", "replace")}
    for urn in pairs:
        if ops[urn] is None:
            later = _known_after_deploy(old[pairs[urn]], new[urn], created)
            if later:
                ops[urn], properties[urn] = "update", later

    changes: list[ResourceChange] = []
    for urn, resource in new.items():
        op = ops[urn]
        if op is None:
            continue
        why = reasons.get(urn, [])
        marked = [
            PropertyChange(p.path, p.before, p.after, p.secret, replaces=_overlaps(p.path, why)) for p in properties.get(urn, [])
        ]
        group = plandoc.group_of(resource, new)
        changes.append(ResourceChange(op, urn, resource["type"], resource["name"], group, marked, why))
    kept = set(pairs.values())
    for urn, resource in old.items():
        if urn not in kept:
            changes.append(ResourceChange("delete", urn, resource["type"], resource["name"], plandoc.group_of(resource, old)))
    outputs = compare((base or {}).get("outputs") or {}, head.get("outputs") or {}) if base else []
    return PlanDiff(
        project=str(head.get("project", "")),
        stack=str(head.get("stack", "")),
        base=base,
        head=head,
        changes=changes,
        unchanged=sum(1 for op in ops.values() if op is None),
        outputs=outputs,
        base_note=base_note,
    )


# ---------------------------------------------------------------- rendering


def _show(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if is_secret(value):
        return "[secret]"
    text = json.dumps(scrub(value), sort_keys=True, default=str)
    return text if len(text) <= VALUE_WIDTH else f"{text[: VALUE_WIDTH - 1]}…({len(text)} chars)"


def _list_change(before: list[Any], after: list[Any]) -> str | None:
    """For lists of plain values: which items came and went, not both whole lists."""
    if any(isinstance(i, (dict, list)) for i in [*before, *after]):
        return None
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    if not added and not removed:
        return "reordered"
    parts = [f"+{_show(i)}" for i in added] + [f"-{_show(i)}" for i in removed]
    return ", ".join(parts)


def property_line(change: PropertyChange) -> str:
    if change.before is MISSING:
        text = f"+ {change.path}: {_show(change.after)}"
    elif change.after is MISSING:
        text = f"- {change.path}: {_show(change.before)}"
    elif change.after is AFTER_DEPLOY:
        text = f"{change.path}: (known after deploy)"
    elif change.secret:
        text = f"{change.path}: [secret] changed"
    elif isinstance(change.before, list) and isinstance(change.after, list) and _list_change(change.before, change.after):
        text = f"{change.path}: {_list_change(change.before, change.after)}"
    else:
        text = f"{change.path}: {_show(change.before)} => {_show(change.after)}"
    if not text.startswith(("+ ", "- ")):
        text = f"~ {text}"
    return text + ("  (forces replacement)" if change.replaces else "")


def _resource_lines(change: ResourceChange, properties: bool = True) -> Iterator[str]:
    reason = f"  [replace: {', '.join(change.replace_reasons)}]" if change.op == "replace" else ""
    yield f"{SYMBOL[change.op]:<2} {change.type}  {change.name}{reason}"
    if properties:
        lines = [property_line(p) for p in change.properties]
        shown = lines[:PROPERTY_LINES]
        yield from (f"       {line}" for line in shown)
        if len(lines) > len(shown):
            yield f"       … {len(lines) - len(shown)} more changed properties"


def _groups(diff: PlanDiff) -> list[tuple[str, list[ResourceChange]]]:
    order = plandoc.regions_of(diff.head) + (plandoc.regions_of(diff.base) if diff.base else [])
    groups: dict[str, list[ResourceChange]] = {}
    for change in sorted(diff.changes, key=lambda c: (c.name, c.type, c.op)):
        groups.setdefault(change.group, []).append(change)
    rank = {name: i for i, name in enumerate(dict.fromkeys(order))}
    return sorted(groups.items(), key=lambda item: (item[0] not in rank, rank.get(item[0], 0), item[0]))


def _group_summary(changes: list[ResourceChange]) -> str:
    words = {"create": "to add", "update": "to change", "replace": "to replace", "delete": "to delete"}
    return ", ".join(f"{n} {words[op]}" for op in OPS if (n := sum(1 for c in changes if c.op == op)))


@dataclass(frozen=True)
class Insight:
    """Cost and deploy time of both sides, computed once for both renderers."""

    cost: Any
    fresh_before: Any
    fresh_after: Any
    change: Any


def insight(diff: PlanDiff) -> Insight:
    from ops.review.cost import cost_change
    from ops.review.deploytime import TimeTable, change_deploy, fresh_deploy

    table = TimeTable.load()
    return Insight(
        cost=cost_change(diff.base, diff.head),
        fresh_before=fresh_deploy(diff.base, table) if diff.base else None,
        fresh_after=fresh_deploy(diff.head, table),
        change=change_deploy(diff.head, diff.created, table),
    )


def _time_change(before: Any, after: Any) -> str:
    from ops.review.deploytime import duration

    if before is None:
        return duration(after.seconds)
    if round(before.seconds) == round(after.seconds):
        return f"{duration(after.seconds)} (unchanged)"
    return f"{duration(before.seconds)} → {duration(after.seconds)}"


def render_text(diff: PlanDiff, base_label: str, extra: Insight | None = None) -> str:
    from ops.review.cost import delta_text, quantity, range_text
    from ops.review.deploytime import duration, path_summary

    extra = extra or insight(diff)
    lines = [f"Offline diff of {diff.project}/{diff.stack}: working tree against {base_label}", ""]
    if diff.base_note:
        lines += [f"note: {diff.base_note}", ""]
    for group, changes in _groups(diff):
        lines.append(f"  {group}: {_group_summary(changes)}")
        for change in changes:
            lines.extend(f"    {line}" for line in _resource_lines(change))
        lines.append("")
    if diff.outputs:
        lines.append("  Outputs:")
        lines.extend(f"    {property_line(p)}" for p in diff.outputs)
        lines.append("")
    lines.append(f"Resources: {diff.summary()}, {diff.unchanged} unchanged")
    if not diff.changes:
        lines.append("No changes.")
    cost = extra.cost
    lines += [
        "",
        f"Monthly cost: {range_text(cost.before.min_total, cost.before.max_total)} → "
        f"{range_text(cost.after.min_total, cost.after.max_total)} ({delta_text(cost.min_delta, cost.max_delta)})",
    ]
    for old, new in cost.items:
        item = new or old
        sign = "+" if old is None else "-" if new is None else "~"
        before = range_text(old.min_monthly, old.max_monthly) if old else "$0"
        after = range_text(new.min_monthly, new.max_monthly) if new else "$0"
        lines.append(f"    {sign} {item.label}: {quantity(item)}, {before} → {after}")
    lines += [
        "",
        "Deploy time (critical path, data/deploy-times.yaml): fresh deploy "
        + _time_change(extra.fresh_before, extra.fresh_after),
        f"    fresh deploy: {path_summary(extra.fresh_after)}",
        f"    this change: ~{duration(extra.change.seconds)}: {path_summary(extra.change)}",
    ]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    # Inside a fenced block only another fence can break out.
    return text.replace("```", "'''")


def render_markdown(diff: PlanDiff, base_label: str, extra: Insight | None = None, limit: int = MARKDOWN_LIMIT) -> str:
    extra = extra or insight(diff)
    text = _markdown(diff, base_label, extra, properties=True)
    if len(text) > limit:
        text = _markdown(diff, base_label, extra, properties=False)
    if len(text) > limit:
        text = text[: limit - 200].rsplit("\n", 1)[0] + "\n\n… cut here: run `ops diff` locally for the rest.\n"
        # A cut inside a fence or a <details> would swallow whatever follows the comment.
        if text.count("```") % 2:
            text += "```\n"
        text += "</details>\n" * (text.count("<details>") - text.count("</details>"))
    return text


def _markdown(diff: PlanDiff, base_label: str, extra: Insight, properties: bool) -> str:
    from ops.review.cost import delta_text, money, quantity, range_text
    from ops.review.deploytime import duration

    counts = [
        (diff.count("create"), "to add"),
        (diff.count("update"), "to change"),
        (diff.count("replace"), "to replace"),
        (diff.count("delete"), "to delete"),
    ]
    summary = ", ".join(f"**{n} {w}**" if n else f"{n} {w}" for n, w in counts)
    out = [
        f"Offline plan of `{diff.stack}` against {html.escape(base_label)}: {summary} ({diff.unchanged} unchanged)."
        + ("" if diff.changes else " No changes."),
        "",
    ]
    if diff.base_note:
        out += [f"> {diff.base_note}", ""]
    cost = extra.cost
    out += [
        "| monthly cost (list prices) | min | max |",
        "|---|---:|---:|",
        f"| before | {money(cost.before.min_total)} | {money(cost.before.max_total)} |",
        f"| after | {money(cost.after.min_total)} | {money(cost.after.max_total)} |",
        f"| **change** | **{delta_text(cost.min_delta, cost.min_delta)}** | **{delta_text(cost.max_delta, cost.max_delta)}** |",
        "",
    ]
    if cost.items:
        out += ["<details><summary>Cost items that change</summary>", "", "| | item | quantity | before | after |"]
        out.append("|---|---|---|---:|---:|")
        for old, new in cost.items:
            item = new or old
            sign = "+" if old is None else "-" if new is None else "~"
            before = range_text(old.min_monthly, old.max_monthly) if old else "$0"
            after = range_text(new.min_monthly, new.max_monthly) if new else "$0"
            out.append(f"| {sign} | {html.escape(item.label)} | {quantity(item)} | {before} | {after} |")
        out += ["", "</details>", ""]

    def path(critical: Any) -> str:
        timed = [step for step in critical.steps if step.seconds]
        return " → ".join(f"`{step.name}` ({duration(step.seconds)})" for step in timed) or "nothing to wait for"

    out += [
        "**Deploy time** (critical path; typical times from `data/deploy-times.yaml`):",
        "",
        f"- this change: ~{duration(extra.change.seconds)}: {path(extra.change)}",
        f"- a fresh `pulumi up`: {_time_change(extra.fresh_before, extra.fresh_after)}: {path(extra.fresh_after)}",
        "",
    ]
    for group, changes in _groups(diff):
        out += [f"<details><summary><b>{html.escape(group)}</b>: {_group_summary(changes)}</summary>", "", "```diff"]
        for change in changes:
            out.extend(_code(line) for line in _resource_lines(change, properties))
        out += ["```", "", "</details>", ""]
    if diff.outputs:
        out += ["<details><summary>Stack outputs</summary>", "", "```diff"]
        out.extend(_code(property_line(p)) for p in diff.outputs)
        out += ["```", "", "</details>", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- planning both sides


class DiffError(Exception):
    pass


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def resolve_base(root: Path, revision: str | None) -> tuple[str, str]:
    """(commit, how to call it) of the revision to compare with."""
    if revision:
        try:
            commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        except DiffError:
            raise DiffError(f"unknown revision {revision!r} in {root}") from None
        # The workflow passes full SHAs: a comment reads better with the short form.
        return commit, commit[:7] if commit.startswith(revision) else f"{revision} ({commit[:7]})"
    for branch in ("main", "origin/main"):
        try:
            commit = _git(root, "merge-base", "HEAD", branch)
        except DiffError:
            continue
        return commit, f"{commit[:7]} (merge base with {branch})"
    commit = _git(root, "rev-parse", "--verify", "HEAD")
    return commit, f"{commit[:7]} (HEAD)"


# Runs in the base revision's directory, on that revision's own code: its `ops plan --json`,
# with secrets fingerprinted instead of blanked where its engine allows it.
_BASE_PLAN = """
import hashlib, hmac, json, os, sys
sys.path.insert(0, os.getcwd())
key = bytes.fromhex(os.environ.pop(sys.argv[2], ""))
try:
    try:
        import offline.engine as engine
    except ImportError:  # revisions from before the engine had a package of its own
        import ops.engine as engine
    def redact(value):
        if isinstance(value, engine.SecretValue):
            plain = json.dumps(engine.reveal(value), sort_keys=True, default=str)
            return "[secret:" + hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()[:16] + "]"
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value
    if key:
        engine.redact = redact
except Exception:
    pass
from ops.cli import main
sys.exit(main(["plan", "--stack", sys.argv[1], "--json"]))
"""


class BasePlan:
    """The base revision's plan, running in a process of its own from the moment this is
    made, so that the working tree can be planned meanwhile: each side spends most of its
    time importing the cloud SDKs, and the two sides need not wait for each other.

    `result()` waits for it: (plan document, None), or (None, why not) when that revision
    cannot plan the stack. `close()` stops it and removes its directory; both are safe to
    call more than once, and a `with` block closes it."""

    def __init__(self, root: Path, commit: str, stack: str, key: bytes, timeout: float = 300) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen[str] | None = None
        self._outcome: tuple[Document | None, str | None] | None = None
        prefix = _git(root, "rev-parse", "--show-prefix")
        archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", commit], capture_output=True, check=False)
        if archive.returncode != 0:
            raise DiffError(f"git archive {commit[:7]}: {archive.stderr.decode(errors='replace').strip()}")
        self._tmp = tempfile.TemporaryDirectory(prefix="ops-diff-")
        try:
            self._start(Path(self._tmp.name, prefix), stack, key, archive.stdout)
        except BaseException:
            self._tmp.cleanup()
            raise

    def _start(self, project: Path, stack: str, key: bytes, archive: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(self._tmp.name, filter="data")
        if not (project / "Pulumi.yaml").exists():
            self._outcome = (None, "the base revision has no Pulumi project here")
            return
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env[_FINGERPRINT_ENV] = key.hex()
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BASE_PLAN, stack, _FINGERPRINT_ENV],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> tuple[Document | None, str | None]:
        if self._outcome is None:
            self._outcome = self._wait()
        self.close()
        return self._outcome

    def _wait(self) -> tuple[Document | None, str | None]:
        assert self._process is not None
        try:
            stdout, stderr = self._process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return None, f"planning the base timed out after {self.timeout:.0f} s"
        if self._process.returncode != 0:
            lines = stderr.strip().splitlines() or [f"exit status {self._process.returncode}"]
            # `ops plan` says why in one "error:" line; anything else, the last line says most.
            reason = next((line for line in reversed(lines) if line.startswith("error: ")), lines[-1])
            return None, reason.removeprefix("error: ")
        return _json_document(stdout)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        self._tmp.cleanup()

    def __enter__(self) -> BasePlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plan_revision(root: Path, commit: str, stack: str, key: bytes, timeout: float = 300) -> tuple[Document | None, str | None]:
    """(plan document, None), or (None, why not) when that revision cannot plan the stack."""
    with BasePlan(root, commit, stack, key, timeout) as base:
        return base.result()


def _json_document(stdout: str) -> tuple[Document | None, str | None]:
    # A program may log a line before the plan; the document is the object that follows.
    start = 0 if stdout.startswith("{") else stdout.find("\n{") + 1
    document: Any = None
    if start or stdout.startswith("{"):
        try:
            document, _ = json.JSONDecoder().raw_decode(stdout[start:])
        except json.JSONDecodeError:
            document = None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        return None, "the base revision's `ops plan --json` printed no plan document"
    return document, None


def comparable_document(plan: Any, key: bytes) -> Document:
    """`ops plan --json`'s document of a plan, with what a comparison needs beyond it:
    secrets fingerprinted rather than blanked, and, for the head side only, which
    resources each property refers to and which old URNs a moved resource answers to."""
    from ops.review.plan import plan_document

    document = plan_document(plan)
    planned = {r.urn: r for r in plan.resources}
    for resource in document["resources"]:
        source = planned[resource["urn"]]
        resource["inputs"] = fingerprint_secrets(source.inputs, key)
        resource["propertyDependencies"] = {k: sorted(set(v)) for k, v in source.property_dependencies.items()}
        resource["aliases"] = [a for a in source.aliases if a.startswith("urn:pulumi:")]
    document["outputs"] = fingerprint_secrets(plan.outputs, key)
    return document


def head_document(stack: str, root: Path, key: bytes) -> Document:
    from offline.engine import run_plan

    return comparable_document(run_plan(stack, root=root), key)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack to compare (default: dev)")
    parser.add_argument("--base", metavar="REV", help="git revision to compare with (default: the merge base of HEAD with main)")
    parser.add_argument("--markdown", action="store_true", help="print a pull-request comment in Markdown")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from offline.engine import PlanError

    key = secrets.token_bytes(32)
    try:
        commit, label = resolve_base(args.root, args.base)
        # The base plans in its own process while the working tree plans in this one.
        with BasePlan(args.root, commit, args.stack, key) as planning:
            head = head_document(args.stack, args.root, key)
            base, why = planning.result()
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except DiffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    note = f"The base {label} cannot plan stack `{args.stack}` ({why}): everything is new." if why else None
    if why:
        print(f"note: base {label}: {why}", file=sys.stderr)
    diff = diff_documents(base, head, base_note=note)
    render = render_markdown if args.markdown else render_text
    sys.stdout.write(render(diff, label))
    return 0
