"""What every policy module shares: the stack kind, and safe reads of resource properties.

Properties reach a policy the way the CrossGuard SDK hands them over, not as the program
wrote them: nested values are read-only `Mapping`/`Sequence` proxies (never `dict`/`list`,
so an `isinstance(x, dict)` check silently passes everything), every number is a float
(protobuf Struct), secrets are plain values, and reading a value the engine does not know
yet (an id during a first preview) raises `UnknownValueError`. `peek` and `elements` turn
that into `UNKNOWN`, so a policy can tell "set, decided at deploy" from "missing".

The stack kind comes from the resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`):
the engine gives it to every Analyze and AnalyzeStack call. `pulumi.get_stack()` also works
under `pulumi preview --policy-pack` (the CLI exports PULUMI_STACK and the SDK configures the
runtime from it before each call), but in an offline run it names whatever stack the mock
engine planned last; and the `marketplace-kind-*` tags sit on clusters only. A stack name
that is none of production, staging, dev or dev-<name> gets production's rules: fail closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from components.addresses import allow_list_breadth_problem, parse_network

KINDS = ("production", "staging", "dev")

# The SDK's ReportViolation type demands the URN argument that its callback makes optional.
Report = Callable[..., None]


class _Unknown:
    """A value the engine will only know after the deploy (preview of new resources)."""

    def __repr__(self) -> str:
        return "<unknown until deploy>"

    def __bool__(self) -> bool:
        # Unknown is "set": presence checks pass, value checks must look for it first.
        return True


UNKNOWN: Any = _Unknown()


def stack_of(urn: str) -> str:
    head = urn.split("::", 1)[0]
    parts = head.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "urn" and parts[1] == "pulumi" else ""


def kind_of_stack(stack: str) -> str:
    if stack in KINDS:
        return stack
    if stack.startswith("dev-"):
        return "dev"
    return "production"


def kind_of(urn: str) -> str:
    return kind_of_stack(stack_of(urn))


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def peek(value: Any, *path: str | int) -> Any:
    """value[path...]: None when anything on the way is missing or of the wrong shape,
    UNKNOWN when the engine does not know it yet."""
    current = value
    for key in path:
        try:
            if isinstance(key, int):
                if not is_list(current) or not -len(current) <= key < len(current):
                    return None
                current = current[key]
            else:
                if not isinstance(current, Mapping):
                    return None
                current = current.get(key)
        except UnknownValueError:
            return UNKNOWN
        if current is None or current is UNKNOWN:
            return current
    return current


def elements(value: Any) -> list[Any]:
    """The items of a list property ([] when it is no list), unknown items as UNKNOWN."""
    if not is_list(value):
        return []
    items: list[Any] = []
    for index in range(len(value)):
        try:
            items.append(value[index])
        except UnknownValueError:
            items.append(UNKNOWN)
    return items


def keys(value: Any) -> list[str]:
    # Iterating a proxy yields its keys without reading (and tripping on) unknown values.
    return [str(key) for key in value] if isinstance(value, Mapping) else []


def is_true(value: Any) -> bool:
    return value is True or value is UNKNOWN


def whole(value: Any) -> int | None:
    """An integer property (numbers arrive as floats), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


def open_to_everyone(ranges: list[Any]) -> list[str]:
    """What is wrong with a source-range list: entries that are no CIDR at all, and whether
    the ranges together admit too large a share of an address family. The share rule is
    the stack settings' own (components/addresses.py), so [0.0.0.0/1, 128.0.0.0/1] fails
    here just as 0.0.0.0/0 does, and both fail before a plan is made."""
    problems = []
    networks = []
    for entry in ranges:
        if entry is UNKNOWN:
            continue
        network = parse_network(str(entry))
        if network is None:
            problems.append(f"{entry!r} is not a CIDR range")
            continue
        networks.append(network)
    too_broad = allow_list_breadth_problem(networks)
    if too_broad:
        problems.append(too_broad)
    return problems


def k8s_name(props: Mapping[str, Any], fallback: str) -> str:
    """namespace/name of a Kubernetes object as the cluster will know it."""
    name = peek(props, "metadata", "name")
    shown = name if isinstance(name, str) else f"{fallback} (auto-named)"
    return f"{namespace_of(props)}/{shown}"


def namespace_of(props: Mapping[str, Any]) -> str:
    namespace = peek(props, "metadata", "namespace")
    return namespace if isinstance(namespace, str) and namespace else "default"
