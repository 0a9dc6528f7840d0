"""The config reader every settings family uses, and the error every refusal raises.

The Pulumi CLI hands the program every value as a string (arrays and objects as JSON), after
applying the defaults declared in Pulumi.yaml. The reader parses and checks those strings and
remembers which keys it read, so that a key nobody reads (a typo) is reported instead of
silently ignored.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.addresses import dns_name_problem, email_problem

PROJECT = "marketplace"

# Namespaces a stack may set keys in: the project's own, the engine's (`pulumi:`), and the
# providers the program uses. A key in any other namespace (`marketplac:regions`) is read
# by nobody: it is refused rather than silently ignored.
NAMESPACES = (PROJECT, "pulumi", "digitalocean", "cloudflare", "kubernetes", "tls")

_WHOLE_NUMBER = re.compile(r"[-+]?[0-9]+", re.ASCII)
# Longest value a message quotes in full; longer ones are shortened around the middle.
_SHOWN_CHARACTERS = 60


def shown(value: Any) -> str:
    """A value as a message quotes it: YAML's words for null and booleans, text quoted
    and shortened when long, lists and objects as JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 200:
        return "a number too long to print"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        length = len(value)
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=True)
        except (TypeError, ValueError):
            text = repr(value)
        length = len(text)
    if len(text) > _SHOWN_CHARACTERS:
        half = (_SHOWN_CHARACTERS - 5) // 2
        text = f"{text[:half]}...{text[-half:]} ({length} characters)"
    return text


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so `pulumi up` prints the message without a
    traceback, and the offline plan does the same."""

    def __init__(self, stack: str, key: str, problem: str) -> None:
        self.stack = stack
        self.key = key
        self.problem = problem
        super().__init__(f"stack '{stack}': config '{key}': {problem}")


@dataclass(frozen=True)
class Secret:
    """A secret config value. Its repr never shows the value; components wrap it with
    `pulumi.Output.secret` where they use it."""

    key: str
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Secret({self.key!r}, [secret])"

    def output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self.value)


class ConfigReader:
    """Reads `marketplace:*` values (all strings, as the CLI passes them), parses and
    checks them, and remembers which keys it read, so that a key nobody reads (a typo)
    is reported instead of silently ignored."""

    def __init__(self, stack: str, values: Mapping[str, str], secret_keys: frozenset[str]) -> None:
        self.stack = stack
        self.values = dict(values)
        self.secret_keys = secret_keys
        self.read: set[str] = set()

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.stack, qualified(key), problem)

    def raw(self, key: str) -> str | None:
        name = qualified(key)
        self.read.add(name)
        return self.values.get(name)

    def json_value(self, key: str, raw: str, expected: type, what: str) -> Any:
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            # ValueError covers malformed JSON and numbers past Python's int-string limit;
            # RecursionError, arrays nested past the interpreter's stack.
            raise self.error(key, f"must be {what}, got {shown(raw)}") from None
        if not isinstance(value, expected):
            raise self.error(key, f"must be {what}, got {shown(raw)}")
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        raw = self.raw(key)
        return default if raw is None else raw.strip()

    def required_string(self, key: str, what: str) -> str:
        value = self.string(key)
        if not value:
            raise self.error(
                key,
                f"is missing: this stack needs {what} (pulumi config set {qualified(key)} <value> -s {self.stack})",
            )
        return value

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise self.error(key, f"must be true or false, got {shown(raw)}")

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        text = raw.strip()
        if not _WHOLE_NUMBER.fullmatch(text):
            raise self.error(key, f"must be a whole number, got {shown(raw)}")
        if len(text.lstrip("+-")) > len(str(high)) + 1:
            raise self.error(key, f"must be between {low} and {high}, got a {len(text)}-digit number")
        value = int(text)
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value}")
        return value

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.raw(key)
        if raw is None:
            return default
        value = self.json_value(key, raw, list, "a list of strings")
        for item in value:
            if not isinstance(item, str):
                raise self.error(key, f"must be a list of strings, got {shown(item)} in it{quote_hint(str, item)}")
        return tuple(item.strip() for item in value)

    def obj(self, key: str, fields: Mapping[str, type]) -> dict[str, Any] | None:
        """An object with only the given fields, each of the given type. Missing fields
        are left out of the result (the caller applies defaults)."""
        raw = self.raw(key)
        if raw is None:
            return None
        return self.nested_obj(key, self.json_value(key, raw, dict, "an object"), fields)

    def nested_obj(self, key: str, value: Any, fields: Mapping[str, FieldType]) -> dict[str, Any]:
        """Like `obj`, for a value already parsed: `key` names its path (e.g. workloads.web).
        A field's type may be a tuple ((int, float): any number); `object` takes anything,
        for a field whose own check words the refusal better."""
        if not isinstance(value, dict):
            raise self.error(key, f"must be an object {{{', '.join(fields)}}}, got {shown(value)}")
        for name, item in value.items():
            if name not in fields:
                raise self.error(f"{key}.{name}", unknown(name, fields, "field"))
            expected = fields[name]
            # bool is an int in Python; a number field must not accept true/false.
            if not isinstance(item, expected) or (isinstance(item, bool) and bool not in _types(expected)):
                raise self.error(f"{key}.{name}", f"must be {type_word(expected)}, got {shown(item)}{quote_hint(expected, item)}")
        return dict(value)

    def secret(self, key: str) -> Secret | None:
        name = qualified(key)
        raw = self.raw(key)
        if raw is None:
            return None
        if name not in self.secret_keys:
            raise self.error(
                key,
                f"is a secret but is stored in plain text: set it with pulumi config set --secret {name} -s {self.stack}",
            )
        return Secret(name, raw)

    def region_list(
        self, key: str, listed: Sequence[str], allowed: Collection[str], *, every_known: bool = False
    ) -> tuple[str, ...]:
        """`listed` if each region is one of `allowed` and none is listed twice. `allowed` is
        the stack's own regions, or with `every_known` every region the program knows."""
        seen: set[str] = set()
        for region in listed:
            if region not in allowed:
                raise self.error(
                    key,
                    f"unknown region {shown(region)}; known regions: {', '.join(sorted(allowed))}"
                    if every_known
                    else f"{shown(region)} is not one of this stack's regions ({', '.join(allowed)})",
                )
            if region in seen:
                raise self.error(key, f"region {shown(region)} is listed twice")
            seen.add(region)
        return tuple(listed)

    def dns_name(self, key: str, value: str) -> str:
        problem = dns_name_problem(value)
        if problem:
            raise self.error(
                key, f"must be a lowercase DNS name such as catalog.example.com, got {shown(value)}, which {problem}"
            )
        return value

    def email(self, key: str, value: str) -> str:
        problem = email_problem(value)
        if problem:
            raise self.error(key, f"{problem}, got {shown(value)}")
        return value

    def check_namespaces(self) -> None:
        """Every key lives in a namespace someone reads."""
        for key in sorted(self.values):
            namespace = key.split(":", 1)[0]
            if namespace not in NAMESPACES:
                close = [known for known in NAMESPACES if known.lower() == namespace.lower()]
                close = close or difflib.get_close_matches(namespace, NAMESPACES, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(NAMESPACES)})"
                raise ConfigError(self.stack, key, f"unknown namespace '{namespace}': nothing reads this key{hint}")

    def check_unread(self) -> None:
        known = sorted(self.read)
        for key in sorted(self.values):
            if key.startswith(f"{PROJECT}:") and key not in self.read:
                raise ConfigError(self.stack, key, unknown(key, known, "key"))


def qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def unknown(name: str, known: Any, what: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {what}{hint}"


FieldType = type | tuple[type, ...]


def _types(expected: FieldType) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def type_word(expected: FieldType) -> str:
    if set(_types(expected)) == {int, float}:
        return "a number"
    words = {int: "a whole number", float: "a number", str: "a string", bool: "true or false", list: "a list", dict: "an object"}
    return " or ".join(words.get(kind, kind.__name__) for kind in _types(expected))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def quote_hint(expected: FieldType, item: Any) -> str:
    """What to change in the YAML when a value has the wrong type only because of quotes."""
    types = _types(expected)
    number = isinstance(item, (int, float)) and not isinstance(item, bool)
    if types == (str,) and (number or isinstance(item, bool)):
        return f": quote it (YAML reads an unquoted {shown(item)} as {'a number' if number else 'true/false'}; 1.30 becomes 1.3)"
    if isinstance(item, str) and (
        (int in types and _WHOLE_NUMBER.fullmatch(item.strip())) or (float in types and _is_number(item.strip()))
    ):
        return ": remove the quotes"
    if types == (bool,) and isinstance(item, str) and item.strip().lower() in ("true", "false"):
        return ": remove the quotes"
    return ""
