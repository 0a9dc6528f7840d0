"""Stack configuration the way the Pulumi CLI builds it, for the offline plan.

Under the mock engine the SDK reads neither Pulumi.yaml nor the stack file, so this module
does what the CLI does before it starts a program (pulumi/pulumi
sdk/go/common/workspace/project.go and config.go): apply project defaults, check declared
types and secrets, stop on missing keys, and hand the program every value as a string.
Values of `secure:` keys are ciphertext; without the passphrase they become stand-ins,
marked secret.
"""

from __future__ import annotations

import json
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


def _load_yaml(path: Path, stack: str) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise StackConfigError(f"stack '{stack}': {path.name} is not valid YAML{at}") from None


def _as_config_string(value: Any) -> str:
    """The string the CLI hands the program for a value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _type_problem(declaration: Mapping[str, Any], value: Any) -> str | None:
    expected = declaration.get("type")
    if expected == "string":
        return None if not isinstance(value, (list, dict)) else "must be of type 'string'"
    if expected == "integer":
        if isinstance(value, bool):
            return "must be of type 'integer'"
        if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
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


def load_stack_config(
    stack: str,
    root: Path = ROOT,
    stack_text: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> StackConfig:
    """The config the CLI would give the program for `stack`.

    A `dev-<name>` stack may have no file; every other stack must. `stack_text` replaces
    the stack file's content, `overrides` set keys on top of it (both for tests)."""
    project = _load_yaml(root / "Pulumi.yaml", stack)
    name = project["name"]
    stack_file = root / f"Pulumi.{stack}.yaml"
    if stack_text is not None:
        try:
            document = yaml.safe_load(stack_text)
        except yaml.YAMLError:
            raise StackConfigError(f"stack '{stack}': {stack_file.name} is not valid YAML") from None
    elif stack_file.exists():
        document = _load_yaml(stack_file, stack)
    elif stack.startswith("dev-"):
        document = {}
    else:
        raise StackConfigError(f"stack '{stack}': no stack file {stack_file.name} (only dev-<name> stacks may go without)")
    document = document or {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackConfigError(f"stack '{stack}': {stack_file.name} must be a mapping with a 'config' mapping")

    stack_values: dict[str, Any] = dict(document.get("config") or {})
    stack_values.update(overrides or {})
    declarations, foreign = _project_declarations(project)

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    stand_ins: dict[str, str] = {}
    for key, value in foreign.items():
        values[key] = _as_config_string(value)

    for key, value in stack_values.items():
        if ":" not in key:
            raise StackConfigError(f"stack '{stack}': config key '{key}' must be namespaced, e.g. '{name}:{key}'")
        declaration = declarations.get(key, {})
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
            stand_ins[key] = values[key] = stand_in(key)
            continue
        if declaration.get("secret"):
            raise StackConfigError(f"stack '{stack}': configuration key '{key}' must be encrypted as it's secret")
        problem = _type_problem(declaration, value)
        if problem:
            raise StackConfigError(f"Stack '{stack}' with configuration key '{key}' {problem}")
        values[key] = _as_config_string(value)

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
