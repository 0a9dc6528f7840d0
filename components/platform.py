"""What DigitalOcean, Cloudflare and the controllers on a cluster enforce that the Pulumi mock
engine does not: which inputs force a replacement, which physical names must be unique in an
account (or zone, or everywhere), which values an API takes. Static data
(data/platform-rules.yaml, each rule with its source); settings use the allowed values,
ops/review/findings.py checks whole plans against all of it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.addresses import public_network_problem

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "platform-rules.yaml"

SCOPES = ("account", "zone", "global")
KINDS = ("enum", "range", "pattern", "cidr", "requires_one_of")


@dataclass(frozen=True)
class ReplaceRule:
    property: str  # dotted path into the camelCase inputs
    source: str


@dataclass(frozen=True)
class Target:
    """Which resources a rule reads: a Pulumi type token, or a Kubernetes (group, kind) of
    any API version (Envoy Gateway moves kinds between versions without changing them)."""

    type: str | None = None
    kubernetes: tuple[str, str] | None = None


@dataclass(frozen=True)
class Rule:
    """A rule about one value of some resources: what it is, where it sits, who says so."""

    what: str
    target: Target
    path: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class UniqueName(Rule):
    scope: str
    # Address ranges: unique means "overlaps no other", not only "differs".
    overlap: bool = False


@dataclass(frozen=True)
class AllowedValue(Rule):
    kind: str
    values: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    prefix_min: int | None = None
    prefix_max: int | None = None
    private: bool = False
    public: bool = False
    ipv4: bool = False
    one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlatformRules:
    read: str
    replace_on_change: dict[str, tuple[ReplaceRule, ...]]
    unique_names: tuple[UniqueName, ...]
    allowed_values: tuple[AllowedValue, ...]

    def replace_properties(self, type_: str) -> tuple[str, ...]:
        return tuple(rule.property for rule in self.replace_on_change.get(type_, ()))

    def allowed(self, type_: str, *path: str) -> AllowedValue:
        """The allowed-value rule of one property (settings check config against it)."""
        for rule in self.allowed_values:
            if rule.target.type == type_ and rule.path == path:
                return rule
        raise KeyError(f"no allowed-value rule for {type_} {'.'.join(path)}")


def _target(entry: dict[str, Any]) -> Target:
    kubernetes = entry.get("kubernetes")
    return Target(
        type=entry.get("type"),
        kubernetes=(str(kubernetes["group"]), str(kubernetes["kind"])) if kubernetes else None,
    )


def _checked(entry: dict[str, Any], field_name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """What every unique-name and allowed-value rule has, once its `field_name` is checked."""
    if entry[field_name] not in allowed:
        raise ValueError(f"{RULES_FILE.name}: {entry['what']}: {field_name} must be one of {allowed}")
    return {"what": entry["what"], "target": _target(entry), "path": tuple(entry["path"]), "source": entry["source"]}


def _unique(entry: dict[str, Any]) -> UniqueName:
    return UniqueName(**_checked(entry, "scope", SCOPES), scope=entry["scope"], overlap=bool(entry.get("overlap", False)))


def _allowed(entry: dict[str, Any]) -> AllowedValue:
    return AllowedValue(
        **_checked(entry, "kind", KINDS),
        kind=entry["kind"],
        values=tuple(entry.get("values") or ()),
        minimum=entry.get("min"),
        maximum=entry.get("max"),
        pattern=entry.get("pattern"),
        prefix_min=entry.get("prefix_min"),
        prefix_max=entry.get("prefix_max"),
        private=bool(entry.get("private", False)),
        public=bool(entry.get("public", False)),
        ipv4=bool(entry.get("ipv4", False)),
        one_of=tuple(tuple(path) for path in entry.get("paths") or ()),
    )


@functools.cache
def platform_rules(path: Path = RULES_FILE) -> PlatformRules:
    with path.open(encoding="utf-8") as handle:
        raw: dict[str, Any] = yaml.safe_load(handle)
    return PlatformRules(
        read=str(raw["read"]),
        replace_on_change={
            type_: tuple(ReplaceRule(rule["property"], rule["source"]) for rule in rules)
            for type_, rules in raw["replace_on_change"].items()
        },
        unique_names=tuple(_unique(entry) for entry in raw["unique_names"]),
        allowed_values=tuple(_allowed(entry) for entry in raw["allowed_values"]),
    )


def values_at(value: Any, path: tuple[str, ...], where: str = "") -> Iterator[tuple[str, Any]]:
    """(where, value) for every value at `path`; "[*]" steps into every item of a list.
    Missing steps yield nothing."""
    if not path:
        yield where, value
        return
    step, rest = path[0], path[1:]
    if step == "[*]":
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from values_at(item, rest, f"{where}[{index}]")
        return
    if isinstance(value, dict) and step in value:
        yield from values_at(value[step], rest, f"{where}.{step}" if where else step)


def _cidr_problem(rule: AllowedValue, value: Any) -> str | None:
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return f"{value!r} is not an IP address or CIDR range"
    if rule.ipv4 and network.version != 4:
        return f"{value} is IPv6; only IPv4 is accepted"
    if rule.prefix_min is not None and network.prefixlen < rule.prefix_min:
        return f"{value} is larger than /{rule.prefix_min}"
    if rule.prefix_max is not None and network.prefixlen > rule.prefix_max:
        return f"{value} is smaller than /{rule.prefix_max}"
    if rule.private and not (network.version == 4 and any(network.subnet_of(block) for block in _RFC1918)):  # type: ignore[arg-type]
        return f"{value} is not a private (RFC 1918) range"
    if rule.public:
        problem = public_network_problem(network)
        return f"{value} {problem}" if problem else None
    return None


_RFC1918 = tuple(ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def value_problem(rule: AllowedValue, value: Any) -> str | None:
    """Why `value` is not one the platform takes, or None."""
    if rule.kind == "enum":
        if isinstance(value, (dict, list)):
            return f"{value!r} is not one of {', '.join(map(str, rule.values))}"
        # Numbers arrive as floats from the engine and as strings from annotations.
        candidates = {value, str(value)} | ({int(value)} if isinstance(value, float) and value.is_integer() else set())
        if not candidates & ({*rule.values} | {str(v) for v in rule.values}):
            return f"{value!r} is not one of {', '.join(map(str, rule.values))}"
        return None
    if rule.kind == "range":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{value!r} is not a number"
        if (rule.minimum is not None and number < rule.minimum) or (rule.maximum is not None and number > rule.maximum):
            return f"{value!r} is outside {rule.minimum:g}..{rule.maximum:g}"
        return None
    if rule.kind == "pattern":
        matches = isinstance(value, str) and re.fullmatch(rule.pattern or "", value)
        return None if matches else f"{value!r} does not match {rule.pattern}"
    if rule.kind == "cidr":
        return _cidr_problem(rule, value)
    # requires_one_of: one of the paths below the item is set.
    if not any(found is not None for path in rule.one_of for _, found in values_at(value, path)):
        wanted = " or ".join(".".join(path) for path in rule.one_of)
        return f"sets none of {wanted}"
    return None
