"""What changed between two plan documents, resource by resource and property by property,
like a preview: added (+), deleted (-), updated in place (~) or replaced (+-, when a property
the provider cannot change in place changes). Secrets compare by keyed fingerprint and never
print. `ops diff` (diff.py) plans both sides; diff_render.py shows the result."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.kubernetes_versions import SLUG, slug_key
from components.platform import platform_rules
from ops.review import plandoc
from ops.review.computed import AFTER_DEPLOY, OUTPUTS_KEY, RESOURCE_KEY, Deployed, as_changed, is_secret, substitute
from ops.review.plandoc import Document, Resource

# Properties whose change the provider cannot apply in place: it replaces the resource
# (ForceNew in the upstream Terraform schemas the providers are bridged from). The table,
# each entry with its source, is data/platform-rules.yaml; a missing entry shows as an
# update, which a real preview corrects.
REPLACE_PROPERTIES: dict[str, tuple[str, ...]] = {
    type_: platform_rules().replace_properties(type_) for type_ in platform_rules().replace_on_change
}
# Every other Kubernetes object is identified by its name and namespace.
KUBERNETES_REPLACE_PROPERTIES = ("metadata.name", "metadata.namespace")
# Properties that replace the resource only when what they refer to is created anew: a
# provider pointed at a new cluster is a new provider, but a rotated token is not.
REFERENCE_REPLACE_PROPERTIES: dict[str, tuple[str, ...]] = {plandoc.K8S_PROVIDER: ("kubeconfig",)}


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


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


def _structured(items: list[Any]) -> bool:
    return any(isinstance(i, (dict, list)) for i in items)


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, default=lambda o: o.value if isinstance(o, Deployed) else repr(o))


def _aligned(before: list[Any], after: list[Any], path: str) -> list[PropertyChange]:
    """Lists of objects without names: the items that stayed are matched up (difflib), the
    ones that changed in place compared field by field, the others added or removed."""
    changes: list[PropertyChange] = []
    matcher = difflib.SequenceMatcher(a=[_key(i) for i in before], b=[_key(i) for i in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # Items replaced one for one compare field by field; the surplus came or went.
        paired = min(i2 - i1, j2 - j1)
        for offset in range(paired):
            changes += compare(before[i1 + offset], after[j1 + offset], f"{path}[{j1 + offset}]")
        changes += [c for i in range(i1 + paired, i2) for c in compare(before[i], MISSING, f"{path}[{i}]")]
        changes += [c for j in range(j1 + paired, j2) for c in compare(MISSING, after[j], f"{path}[{j}]")]
    return changes


def compare(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """Every changed leaf between two property values, by path ("nodePool.maxNodes",
    "origins[nyc3-green].weight"). An object or list that comes or goes whole is shown
    field by field too, so that no field hides inside a long value."""
    if before is after or before == after:
        return []
    if is_secret(before) or is_secret(after):
        return [PropertyChange(path, before, after, secret=True)] if _secret_changed(before, after) else []
    if isinstance(before, dict) or isinstance(after, dict):
        old_dict = before if isinstance(before, dict) else {} if before is MISSING else None
        new_dict = after if isinstance(after, dict) else {} if after is MISSING else None
        if old_dict is not None and new_dict is not None and (old_dict or new_dict):
            changes: list[PropertyChange] = []
            # By key: a base planned in another process comes back as sorted JSON, the working
            # tree's plan in the program's order; the same change must read the same.
            for key in sorted({*old_dict, *new_dict}, key=str):
                sub = f"{path}.{key}" if path else str(key)
                changes += compare(old_dict.get(key, MISSING), new_dict.get(key, MISSING), sub)
            return changes
    if isinstance(before, list) or isinstance(after, list):
        old_list = before if isinstance(before, list) else [] if before is MISSING else None
        new_list = after if isinstance(after, list) else [] if after is MISSING else None
        if old_list is not None and new_list is not None and _structured([*old_list, *new_list]):
            old, new = _named(old_list), _named(new_list)
            if (old is not None or not old_list) and (new is not None or not new_list):
                old, new = old or {}, new or {}
                changes = []
                for name in [*old, *(n for n in new if n not in old)]:
                    changes += compare(old.get(name, MISSING), new.get(name, MISSING), f"{path}[{name}]")
                return changes
            return _aligned(old_list, new_list, path)
    if _contains_secret(before) or _contains_secret(after):
        return [PropertyChange(path, before, after, secret=True)]
    return [PropertyChange(path, before, after)]


def ignored(path: str, ignore_changes: Sequence[str]) -> bool:
    """Whether the engine ignores a property path (the resource's ignore_changes option)."""
    plain = re.sub(r"\[[^\]]*\]", "", path)
    return any(plain == i or plain.startswith(f"{i}.") for i in ignore_changes)


def replace_reasons(
    type_: str, before: Mapping[str, Any], after: Mapping[str, Any], ignore_changes: Sequence[str] = ()
) -> list[str]:
    """The properties whose change makes the provider replace the resource."""
    properties: tuple[str, ...]
    if type_.startswith("kubernetes:") and type_ != plandoc.HELM_RELEASE:
        properties = KUBERNETES_REPLACE_PROPERTIES
    else:
        properties = REPLACE_PROPERTIES.get(type_, ())
    reasons = [
        p
        for p in properties
        if not ignored(p, ignore_changes) and compare(plandoc.get_path(before, p, MISSING), plandoc.get_path(after, p, MISSING))
    ]
    # DOKS upgrades a cluster in place; only a lower version means a new cluster
    # (resource_kubernetes_cluster.go: ForceNewIfChange), unless the engine ignores it.
    old_version, new_version = str(before.get("version")), str(after.get("version"))
    if (
        type_ == plandoc.DOKS
        and SLUG.match(old_version)
        and SLUG.match(new_version)
        and slug_key(new_version) < slug_key(old_version)
        and not ignored("version", ignore_changes)
    ):
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
    ignore = resource.get("ignoreChanges") or ()
    changes = [
        change
        for change in compare(previous.get("inputs") or {}, resource.get("inputs") or {})
        if not ignored(change.path, ignore)
    ]
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
    change in place, and replaces. Read from the head plan's propertyDependencies, or from
    its knownAfterDeploy entries (which value came from which resource)."""
    type_ = resource["type"]
    reasons = []
    by_property = resource.get("propertyDependencies") or {}
    computed = [
        (".".join(str(step) for step in entry["path"] if not isinstance(step, int)), entry["from"])
        for entry in resource.get(RESOURCE_KEY) or []
    ]
    for path in (*REPLACE_PROPERTIES.get(type_, ()), *REFERENCE_REPLACE_PROPERTIES.get(type_, ())):
        sources = list(by_property.get(path.split(".")[0], []))
        sources += [urn for where, urns in computed if where == path or where.startswith(f"{path}.") for urn in urns]
        for urn in dict.fromkeys(sources):
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
        reasons[urn] = replace_reasons(
            resource["type"], previous.get("inputs") or {}, resource.get("inputs") or {}, resource.get("ignoreChanges") or ()
        )
        # A resource that lists its values known after deploy compares once what is created
        # anew is known (below); only the replacements are needed before that.
        if resource.get(RESOURCE_KEY) is None:
            properties[urn] = _property_changes(previous, resource)
        ops[urn] = "replace" if reasons[urn] else "update" if properties.get(urn) else None

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
    # it looks unchanged, and a new resource's id or address looks like any value; a real
    # preview shows them as values known only after the deploy (a replaced Gateway's new
    # address in its pool's origins, a new pool's id in the load balancer's pools).
    # What the providers computed for resources that exist already is shown as such
    # (Deployed): the plans only hold the mocks' stand-ins for it.
    created = {urn: new[urn] for urn, op in ops.items() if op in ("create", "replace")}
    for urn in pairs:
        resource, previous = new[urn], old[pairs[urn]]
        entries = resource.get(RESOURCE_KEY)
        if entries is None:
            # A document without the list (a hand-made one): judged property by property.
            later = _known_after_deploy(previous, resource, created) if ops[urn] is None else []
            if later:
                ops[urn], properties[urn] = "update", later
            continue
        before = substitute(previous.get("inputs") or {}, previous.get(RESOURCE_KEY) or [], Deployed)
        after = as_changed(resource.get("inputs") or {}, entries, created)
        properties[urn] = _property_changes({**previous, "inputs": before}, {**resource, "inputs": after})
        if ops[urn] is None and properties[urn]:
            ops[urn] = "update"

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
    outputs = []
    if base:
        before_outputs = substitute(base.get("outputs") or {}, base.get(OUTPUTS_KEY) or [], Deployed)
        outputs = compare(before_outputs, as_changed(head.get("outputs") or {}, head.get(OUTPUTS_KEY) or [], created))
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
