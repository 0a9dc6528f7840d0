"""Which values of a plan only the providers know: ids, addresses, endpoints, certificates,
expiry dates. A real `pulumi preview` shows them as `output<string>` until the deploy makes
them; the offline plan gets invented stand-ins from the mocks (offline/mocks.py), which must
never pass for real values.

A value is the provider's when it is a resource's id, or one of its outputs that is not one
of its inputs echoed back (`status.addresses[0].value` of a Gateway, `endpoint` of a cluster,
`expiresOn` of a certificate). Names are not: the providers choose auto-names in Check,
before the deploy, and a preview shows them. Every input of another resource that carries
such a value (whole, or inside a longer string such as a kubeconfig), and every stack output
that does, is "known after deploy" of the resource that made it.

The plan document (ops/review/plan.py) keeps the stand-ins, so that two plans still compare,
and lists where they are (`knownAfterDeploy`: path and source URNs); `ops plan --json` prints
them as "[unknown]", the text views as "(known after deploy)", and `ops diff` treats them as
unknown only when their source is created anew by the change.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from offline.engine import UNKNOWN, Plan, PlannedResource, SecretValue

Path = tuple[str | int, ...]
# {"path": [...], "from": [urn, ...]}: one value a provider computes, and which resources make it.
Entry = dict[str, Any]

RESOURCE_KEY = "knownAfterDeploy"
OUTPUTS_KEY = "outputsKnownAfterDeploy"

# A secret as a plan document holds it: "[secret]" (offline.engine.redact), or a keyed
# fingerprint "[secret:<hex>]" where `ops diff` compares two plans.
_SECRET_MARK = re.compile(r"\[secret(?::[0-9a-f]+)?\]")


def is_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(_SECRET_MARK.fullmatch(value))


def is_hidden(value: Any) -> bool:
    """A mark where a plan document shows no value: a secret, or a value the engine did not
    know (offline.engine.UNKNOWN)."""
    return value == UNKNOWN or is_secret(value)


class _AfterDeploy:
    def __repr__(self) -> str:
        return "(known after deploy)"


# Stands in for a value that exists only once the deploy has made it.
AFTER_DEPLOY: Any = _AfterDeploy()


class Deployed:
    """A value a provider computed for a resource that exists already: the deployed stack
    knows it, the offline plan only has the mock's stand-in. It compares as that stand-in
    (so an unchanged reference stays unchanged) and prints as what it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return bool(self.value == (other.value if isinstance(other, Deployed) else other))

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Deployed({self.value!r})"


DEPLOYED_TEXT = "(deployed value)"
_MARKS = {"after": "\x00after-deploy\x00", "deployed": "\x00deployed\x00"}


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar in a value with its path; secrets are walked into (their contents may
    carry a computed value, such as the endpoint inside a kubeconfig)."""
    if isinstance(value, SecretValue):
        yield from _leaves(value.value, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _looks_made_up(value: str) -> bool:
    # Ids, addresses, endpoints, PEMs and dates all hold digits and are long; the words a
    # provider reports ("running", "deployed") are states, and never end up in an input.
    return len(value) >= 8 and any(character.isdigit() for character in value)


def provider_values(resource: PlannedResource) -> set[str]:
    """The strings a provider makes up for a resource: its id and each output that is not
    one of its inputs (and not a name: auto-names are known at preview)."""
    if not resource.custom:
        return set()
    echoed = {value for _, value in _leaves(resource.inputs) if isinstance(value, str)}
    found = {resource.id} if resource.id else set()
    for path, value in _leaves(resource.outputs):
        if isinstance(value, str) and value not in echoed and path[-1:] != ("name",) and _looks_made_up(value):
            found.add(value)
    return found


def _entries(value: Any, path: Path, tokens: Mapping[str, set[str]]) -> list[Entry]:
    found = []
    for leaf_path, leaf in _leaves(value, path):
        if not isinstance(leaf, str):
            continue
        sources = sorted(urn for urn, made in tokens.items() if any(token in leaf for token in made))
        if sources:
            found.append({"path": list(leaf_path), "from": sources})
    return found


def known_after_deploy(plan: Plan) -> tuple[dict[str, list[Entry]], list[Entry]]:
    """(urn -> the resource's inputs only the deploy makes known, the stack outputs that are).

    Inputs are matched against the values of the resources each property depends on (the
    engine's propertyDependencies), so a coincidence elsewhere cannot make a value unknown."""
    made = {resource.urn: provider_values(resource) for resource in plan.resources}
    made = {urn: values for urn, values in made.items() if values}
    per_resource: dict[str, list[Entry]] = {}
    for resource in plan.resources:
        entries = []
        for key, value in resource.inputs.items():
            depends_on = resource.property_dependencies.get(key) or resource.dependencies
            tokens = {urn: made[urn] for urn in depends_on if urn in made}
            if tokens:
                entries += _entries(value, (key,), tokens)
        if entries:
            per_resource[resource.urn] = entries
    # The engine records no dependencies of stack outputs: any resource may have made them.
    return per_resource, _entries(plan.outputs, (), made)


def _replace(value: Any, path: Path, new: Any) -> Any:
    """A copy of `value` with the item at `path` replaced. Unchanged where the path does not
    lead anywhere (a secret blanked as a whole hides what is inside it) or leads to a secret:
    a secret shows nothing either way, and says more as "[secret]"."""
    if not path:
        return value if is_secret(value) else new(value) if callable(new) else new
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _replace(value[head], rest, new)}
    if isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value):
        return [*value[:head], _replace(value[head], rest, new), *value[head + 1 :]]
    return value


def substitute(value: Any, entries: Iterable[Entry], new: Any, only_from: Iterable[str] | None = None) -> Any:
    """`value` with each computed item replaced by `new` (or `new(item)` when it is callable);
    with `only_from`, only the items some of whose sources are among those URNs (the
    resources a change creates anew)."""
    wanted = None if only_from is None else set(only_from)
    for entry in entries:
        if wanted is None or wanted.intersection(entry["from"]):
            value = _replace(value, tuple(entry["path"]), new)
    return value


def as_changed(value: Any, entries: Iterable[Entry], created: Iterable[str]) -> Any:
    """A value of the working tree as a change shows it: what a resource created anew
    computes is AFTER_DEPLOY, what an existing one computed is Deployed."""
    created = set(created)
    entries = list(entries)
    value = substitute(value, [e for e in entries if created.intersection(e["from"])], AFTER_DEPLOY)
    return substitute(value, [e for e in entries if not created.intersection(e["from"])], Deployed)


def published(document: Mapping[str, Any]) -> dict[str, Any]:
    """The plan document as `ops plan --json` prints it: every computed value "[unknown]"
    (a secret stays "[secret]": it shows nothing either way)."""

    def mark(value: Any, entries: Iterable[Entry]) -> Any:
        return substitute(value, entries, UNKNOWN)

    result = copy.deepcopy(dict(document))
    for resource in result["resources"]:
        resource["inputs"] = mark(resource["inputs"], resource.get(RESOURCE_KEY, []))
    result["outputs"] = mark(result["outputs"], result.get(OUTPUTS_KEY, []))
    return result


def _marked(value: Any) -> Any:
    if value is AFTER_DEPLOY:
        return _MARKS["after"]
    if isinstance(value, Deployed):
        return _MARKS["deployed"]
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_marked(item) for item in value]
    return value


def as_text(value: Any) -> str:
    """JSON of a value for a reader, computed items shown as (known after deploy) or
    (deployed value)."""
    text = json.dumps(_marked(value), sort_keys=True, default=str, ensure_ascii=False)
    return text.replace(json.dumps(_MARKS["after"]), repr(AFTER_DEPLOY)).replace(json.dumps(_MARKS["deployed"]), DEPLOYED_TEXT)
