"""Stack configuration the way the Pulumi CLI builds it, for the offline plan.

Under the mock engine the SDK reads neither Pulumi.yaml nor the stack file, so this module
does what the CLI does before it starts a program (pulumi/pulumi
sdk/go/common/workspace/project.go and config.go): apply project defaults, check declared
types and secrets, stop on missing keys, and hand the program every value as a string.
Values of `secure:` keys are ciphertext; without the passphrase they become stand-ins,
marked secret.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


class StackConfigError(Exception):
    """A stack that the CLI itself would refuse to run."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    # Out of the repr: a failing test prints its plan, and these hold the secrets.
    values: dict[str, str] = field(repr=False)
    secret_keys: frozenset[str]
    # The stand-in of every secret value, so tests can prove none of them leaks.
    stand_ins: dict[str, str] = field(repr=False)


def stand_in(key: str) -> str:
    """What the program sees for a secret it cannot decrypt: shaped like what the key
    holds, so its validation passes (a key named ...Url holds an https URL; .invalid is a
    top-level domain that never resolves, RFC 2606)."""
    name = key.replace(":", "-")
    if key.endswith("Url"):
        return f"https://offline-stand-in.invalid/{name}"
    return f"offline-stand-in-for-{name}"


# Bounds on what one stack file may expand to. A real stack file has a few hundred nodes,
# nests five deep and writes no number longer than ten digits; a file past these is a
# mistake or an attack (an alias "billion laughs" expands ten lines into 10^9 nodes, a list
# nested a thousand deep overflows the parser's stack, a 5,000-digit integer passes
# Python's int-string limit).
MAX_NODES = 20_000
MAX_DEPTH = 64
MAX_NUMBER_DIGITS = 100

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


class _StackFileLoader(yaml.SafeLoader):
    """A YAML loader that reads plain scalars by the YAML 1.2 core schema the CLI's Go YAML
    library uses (so `yes`, `on`, `04:00` and `2024-01-01` stay text instead of turning
    into a bool, a base-60 number or a date as YAML 1.1 would have them), refuses duplicate
    keys (the last one would silently win), and bounds nesting, alias expansion and
    number length."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, height)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) and event.anchor in self._open_anchors:
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor} refers to a node that contains it", event.start_mark
            )
        if not isinstance(event, yaml.AliasEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nests deeper than {MAX_DEPTH} levels", event.start_mark)
            if event.anchor is not None:
                self._open_anchors.add(event.anchor)
        node = super().compose_node(parent, index)
        if not isinstance(event, yaml.AliasEvent):
            self._depth -= 1
            self._open_anchors.discard(event.anchor)
        self._measure(node, event.start_mark)
        return node

    def _measure(self, node: Any, mark: Any) -> None:
        """Counts the node as its aliases expand it; children are measured before parents."""
        if id(node) in self._sizes:
            size, height = self._sizes[id(node)]
        else:
            children = []
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            measured = [self._sizes[id(child)] for child in children]
            size = 1 + sum(child_size for child_size, _ in measured)
            height = 1 + max((child_height for _, child_height in measured), default=0)
            self._sizes[id(node)] = (size, height)
        if size > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"expands to more than {MAX_NODES} values (aliases counted as they expand)", mark
            )
        if height > MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nests deeper than {MAX_DEPTH} levels", mark)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key_node.value!r} twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        self._check_length(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: Any) -> Any:
        self._check_length(node)
        return super().construct_yaml_float(node)

    def _check_length(self, node: Any) -> None:
        if len(node.value) > MAX_NUMBER_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of {len(node.value)} characters (at most {MAX_NUMBER_DIGITS})", node.start_mark
            )


# The YAML 1.2 core schema (yaml.org/spec/1.2.2 section 10.3.2), anchored at both ends.
for _tag, _pattern, _first in (
    (_BOOL, r"(?:true|True|TRUE|false|False|FALSE)\Z", "tTfF"),
    (_INT, r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z", "-+0123456789"),
    (
        _FLOAT,
        r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z",
        "-+.0123456789",
    ),
    (_NULL, r"(?:~|null|Null|NULL|)\Z", ["~", "n", "N", ""]),
    (_MERGE, r"<<\Z", "<"),
):
    _StackFileLoader.add_implicit_resolver(_tag, re.compile(_pattern, re.ASCII), list(_first))
_StackFileLoader.add_constructor(_INT, _StackFileLoader.construct_yaml_int)
_StackFileLoader.add_constructor(_FLOAT, _StackFileLoader.construct_yaml_float)


@dataclass(frozen=True)
class _Document:
    value: Any
    # The text of each plain scalar under `config:` that YAML read as a number, bool or
    # null: the CLI hands the program that text (`1.30` stays "1.30", not 1.3).
    scalar_text: dict[Any, str]


def _unreadable(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        character = ord(error.character) if isinstance(error.character, (bytes, str)) else error.character
        if error.reason == "special characters are not allowed":
            return f"contains the control character U+{character:04X} at offset {error.position}, which YAML forbids"
        return f"is not UTF-8 or UTF-16 text (byte 0x{character:02x} at offset {error.position})"
    where = getattr(error, "problem_mark", None)
    at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
    problem = " ".join(str(getattr(error, "problem", "") or "").split())
    return f"is not valid YAML{at}" + (f": {problem}" if problem else "")


def _load_yaml(source: bytes | str, name: str, stack: str) -> _Document:
    try:
        loader = _StackFileLoader(source)
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise StackConfigError(f"stack '{stack}': {name} {_unreadable(error)}") from None
    texts = _scalar_text(loader, node)
    loader.dispose()
    return _Document(value, texts)


@functools.lru_cache(maxsize=8)
def _load_project(source: bytes, stack: str) -> _Document:
    # Every plan reads the same Pulumi.yaml; parsing it is most of the cost of a small plan.
    return _load_yaml(source, "Pulumi.yaml", stack)


def _scalar_text(loader: _StackFileLoader, root: Any) -> dict[Any, str]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    config = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "config"), None)
    if not isinstance(config, yaml.MappingNode):
        return {}
    texts: dict[Any, str] = {}
    for key_node, value_node in config.value:
        plain = isinstance(value_node, yaml.ScalarNode) and value_node.style is None
        if isinstance(key_node, yaml.ScalarNode) and plain and value_node.tag in (_INT, _FLOAT, _BOOL, _NULL):
            text = "" if value_node.tag == _NULL else value_node.value
            texts[loader.construct_object(key_node, deep=True)] = text
    return texts


def _json_problem(value: Any, path: str) -> tuple[str, str] | None:
    """(where, what) when `value` is not plain JSON data (what the CLI can hand a program),
    `where` the key path of the offending part; None when it is."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value} is not a finite number")
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_problem(item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return path, f"the key {key!r} is not text: quote it"
            problem = _json_problem(item, f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return path, f"a date ({value.isoformat()}) is not a config value: quote it to keep it as text"
    if isinstance(value, bytes):
        return path, "binary data (!!binary) is not a config value: config values are text"
    return path, f"a YAML {type(value).__name__} is not a config value"


def _as_config_string(value: Any) -> str:
    """The string the CLI hands the program for a value (checked by _json_problem first)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


_INTEGER_TEXT = re.compile(r"-?[0-9]+", re.ASCII)


def _type_problem(declaration: Mapping[str, Any], value: Any) -> str | None:
    expected = declaration.get("type")
    if expected == "string":
        return None if not isinstance(value, (list, dict)) else "must be of type 'string'"
    if expected == "integer":
        if isinstance(value, bool):
            return "must be of type 'integer'"
        if isinstance(value, int) or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip())):
            return None
        return "must be of type 'integer'"
    if expected == "boolean":
        if isinstance(value, bool) or (isinstance(value, str) and value in ("true", "false")):
            return None
        return "must be of type 'boolean'"
    if expected == "array":
        if not isinstance(value, list):
            return "must be of type 'array'"
        items = declaration.get("items") or {}
        for item in value:
            problem = _type_problem(items, item)
            if problem:
                return f"items {problem}"
        return None
    return None


def _project_declarations(project: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(declarations of project keys, values of other namespaces' keys), fully qualified."""
    name = project["name"]
    declarations: dict[str, dict[str, Any]] = {}
    foreign: dict[str, Any] = {}
    for key, entry in (project.get("config") or {}).items():
        namespace, _, short = key.rpartition(":")
        if namespace and namespace != name:
            foreign[key] = entry
            continue
        qualified = f"{name}:{short}"
        declarations[qualified] = entry if isinstance(entry, dict) else {"default": entry}
    return declarations, foreign


def _read_file(path: Path, stack: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StackConfigError(f"stack '{stack}': cannot read {path.name}: {error.strerror}") from None


def _secure_problem(value: Any) -> str | None:
    """Why a `secure:` value is not ciphertext as `pulumi config set --secret` writes it."""
    if not isinstance(value, dict) or "secure" not in value:
        return None
    ciphertext = value["secure"]
    if set(value) != {"secure"} or not isinstance(ciphertext, str) or not ciphertext.strip():
        return (
            "a secure value must be the ciphertext `pulumi config set --secret` writes "
            "(secure: <non-empty text>, nothing beside it)"
        )
    return None


def stack_names(root: Path = ROOT) -> list[str]:
    """The stacks with a stack file (`Pulumi.<stack>.yaml`) in `root`, sorted; dev-<name>
    stacks without one are not among them."""
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in root.glob("Pulumi.*.yaml"))


def load_stack_config(
    stack: str,
    root: Path = ROOT,
    stack_text: str | bytes | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> StackConfig:
    """The config the CLI would give the program for `stack`.

    A `dev-<name>` stack may have no file; every other stack must. `stack_text` replaces
    the stack file's content, `overrides` set keys on top of it (both for tests)."""
    project = copy.deepcopy(_load_project(_read_file(root / "Pulumi.yaml", stack), stack).value)
    name = project["name"]
    stack_file = root / f"Pulumi.{stack}.yaml"
    if stack_text is not None:
        loaded = _load_yaml(stack_text, stack_file.name, stack)
    elif stack_file.exists():
        loaded = _load_yaml(_read_file(stack_file, stack), stack_file.name, stack)
    elif stack.startswith("dev-"):
        loaded = _Document({}, {})
    else:
        raise StackConfigError(f"stack '{stack}': no stack file {stack_file.name} (only dev-<name> stacks may go without)")
    document = loaded.value or {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackConfigError(f"stack '{stack}': {stack_file.name} must be a mapping with a 'config' mapping")

    stack_values: dict[Any, Any] = dict(document.get("config") or {})
    stack_values.update(overrides or {})
    scalar_text = {key: text for key, text in loaded.scalar_text.items() if key not in (overrides or {})}
    declarations, foreign = _project_declarations(project)

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    stand_ins: dict[str, str] = {}
    for key, value in foreign.items():
        values[key] = _as_config_string(value)

    for key, value in stack_values.items():
        if not isinstance(key, str):
            raise StackConfigError(
                f"stack '{stack}': config key {key!r} in {stack_file.name} is not text: keys are '{name}:<name>'"
            )
        if ":" not in key:
            raise StackConfigError(f"stack '{stack}': config key '{key}' must be namespaced, e.g. '{name}:{key}'")
        declaration = declarations.get(key, {})
        problem = _secure_problem(value)
        if problem:
            raise StackConfigError(f"stack '{stack}': config '{key}': {problem}")
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
            stand_ins[key] = values[key] = stand_in(key)
            continue
        if declaration.get("secret"):
            raise StackConfigError(f"stack '{stack}': configuration key '{key}' must be encrypted as it's secret")
        unusable = _json_problem(value, key)
        if unusable:
            raise StackConfigError(f"stack '{stack}': config '{unusable[0]}': {unusable[1]}")
        problem = _type_problem(declaration, value)
        if problem:
            raise StackConfigError(f"Stack '{stack}' with configuration key '{key}' {problem}")
        values[key] = scalar_text[key] if key in scalar_text else _as_config_string(value)

    for key, declaration in declarations.items():
        if key in values:
            continue
        if "default" in declaration:
            values[key] = _as_config_string(declaration["default"])
        elif "value" in declaration:
            values[key] = _as_config_string(declaration["value"])
        else:
            raise StackConfigError(f"Stack '{stack}' is missing configuration value '{key.split(':', 1)[1]}'")

    return StackConfig(project=name, stack=stack, values=values, secret_keys=frozenset(secret_keys), stand_ins=stand_ins)
