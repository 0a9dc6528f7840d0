"""The offline plan engine: the real program on the Pulumi SDK's mock engine.

`run_plan` loads a stack's config as the CLI would (offline.stack_config), runs __main__.py in
this process with deterministic provider answers (offline.mocks), and records every resource
registration as the engine receives it: type, name, parent, provider, inputs with their
secret marks, dependencies, protect and retain-on-delete. Many plans can run in one
process; each starts from a fresh root stack and config.
"""

from __future__ import annotations

import gc
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from offline.mocks import OfflineMocks
from offline.stack_config import ROOT, StackConfig, StackConfigError, load_stack_config, stand_in

STACK_TYPE = "pulumi:pulumi:Stack"


class PlanError(Exception):
    """The stack cannot be planned: its config was refused. `declared` counts the
    resources registered before the refusal (zero when validation ran first, as it must)."""

    def __init__(self, message: str, declared: int = 0) -> None:
        super().__init__(message)
        self.declared = declared


@dataclass(frozen=True)
class SecretValue:
    """A value the engine would store encrypted."""

    value: Any = field(repr=False)

    def __repr__(self) -> str:
        return "[secret]"


UNKNOWN = "[unknown]"


def _mark(fields: dict[str, Any]) -> Any:
    """A decoded object, or the special value its signature says it is."""
    signature = fields.get(rpc._special_sig_key)
    if signature is None:
        return fields
    if signature == rpc._special_secret_sig:
        return SecretValue(fields.get("value"))
    if signature == rpc._special_resource_sig:
        return fields.get("urn")
    if signature in (rpc._special_asset_sig, rpc._special_archive_sig):
        return fields.get("path") or fields.get("text") or fields.get("uri") or "[asset]"
    return fields


def _value(value: struct_pb2.Value) -> Any:
    """A protobuf Value as the engine holds it → Python, keeping secret marks. Read field by
    field: json_format's generic walk cost more than the rest of the monitor."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return UNKNOWN if text == rpc.UNKNOWN else text
    if kind == "struct_value":
        return _mark({key: _value(item) for key, item in value.struct_value.fields.items()})
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind == "number_value":
        # Numbers cross the wire as floats; whole ones read back as integers.
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    return None


def _struct(message: struct_pb2.Struct) -> dict[str, Any]:
    decoded = _mark({key: _value(item) for key, item in message.fields.items()})
    return decoded if isinstance(decoded, dict) else {}


def redact(value: Any) -> Any:
    """A copy with every secret replaced by "[secret]"."""
    if isinstance(value, SecretValue):
        return "[secret]"
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def reveal(value: Any) -> Any:
    """A copy with the secret marks removed (for tests that check values, never for output)."""
    if isinstance(value, SecretValue):
        return reveal(value.value)
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


@dataclass
class PlannedResource:
    urn: str
    id: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    aliases: list[str]
    delete_before_replace: bool = False
    custom_timeouts: dict[str, str] = field(default_factory=dict)

    @property
    def provider_urn(self) -> str | None:
        # A provider reference is "<urn>::<id>".
        return self.provider.rsplit("::", 1)[0] if self.provider else None


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    config: StackConfig

    def by_urn(self) -> dict[str, PlannedResource]:
        return {resource.urn: resource for resource in self.resources}

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str, name: str) -> PlannedResource:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources of type {type_} named {name}")
        return matches[0]

    def ancestors(self, resource: PlannedResource) -> Iterator[PlannedResource]:
        index = self.by_urn()
        parent = resource.parent
        while parent and parent in index:
            yield index[parent]
            parent = index[parent].parent

    def region_of(self, resource: PlannedResource, regions: Mapping[str, Any]) -> str | None:
        """The region a resource belongs to: resources are keyed by region slug."""
        for candidate in (resource, *self.ancestors(resource)):
            for slug in regions:
                if candidate.name == slug or candidate.name.startswith(f"{slug}-"):
                    return slug
        return None


def _mark_secret_outputs(outputs: dict[str, Any], request: Any) -> dict[str, Any]:
    """The engine stores the outputs a provider declares secret (the SDK passes their names
    as additionalSecretOutputs, e.g. a cluster's kubeConfigs) encrypted; mocks don't, so the
    plan marks them here as the engine would."""
    for name in request.additionalSecretOutputs:
        if name in outputs and not isinstance(outputs[name], SecretValue):
            outputs[name] = SecretValue(outputs[name])
    return outputs


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what `Mocks.new_resource` is not shown."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.planned: list[PlannedResource] = []
        self.outputs_by_urn: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        self.planned.append(
            PlannedResource(
                urn=response.urn,
                id=response.id,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                provider=request.provider or None,
                inputs=_struct(request.object),
                outputs=_mark_secret_outputs(_struct(response.object), request) if request.custom else {},
                dependencies=list(request.dependencies),
                property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                aliases=[alias.urn or alias.spec.name for alias in request.aliases],
                delete_before_replace=bool(request.deleteBeforeReplace),
                custom_timeouts={
                    name: getattr(request.customTimeouts, name)
                    for name in ("create", "update", "delete")
                    if getattr(request.customTimeouts, name)
                },
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs_by_urn[request.urn] = _struct(request.outputs)
        return super().RegisterResourceOutputs(request)


def _fresh_runtime(config: StackConfig, mocks: pulumi.runtime.Mocks) -> RecordingMonitor:
    settings.SETTINGS.outputs.clear()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_all_config(config.values, sorted(config.secret_keys))
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=config.project, stack=config.stack, preview=False, monitor=monitor)
    # set_mocks registers a root stack of its own; run_in_stack makes the one the program uses.
    settings.set_root_resource(None)  # type: ignore[arg-type]
    return monitor


def with_offline_credentials(config: StackConfig) -> StackConfig:
    """The plan runs without a cloud account: the DigitalOcean token the CLI would run
    with becomes a stand-in secret, unless the stack file sets one."""
    key = "digitalocean:token"
    if key in config.values:
        return config
    value = stand_in(key)
    return StackConfig(
        project=config.project,
        stack=config.stack,
        values={**config.values, key: value},
        secret_keys=config.secret_keys | {key},
        stand_ins={**config.stand_ins, key: value},
    )


def run_plan(
    stack: str = "dev",
    root: Path = ROOT,
    stack_text: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
) -> Plan:
    """Plan `stack`: a PlanError for config the CLI or the program refuses."""
    try:
        config = with_offline_credentials(load_stack_config(stack, root, stack_text, overrides))
    except StackConfigError as error:
        raise PlanError(str(error)) from None

    monitor = _fresh_runtime(config, mocks or OfflineMocks())
    program = str(root / "__main__.py")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    def run_program() -> None:
        runpy.run_path(program, run_name="__main__")

    # The cyclic garbage collector is off while the program runs: with the SDKs' millions of
    # long-lived objects in memory, its full passes cost a third of a plan's time and free
    # almost nothing (a plan's objects live until it is done). It is turned back on after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_in_stack(run_program))
    except pulumi.RunError as error:
        raise PlanError(str(error), declared=len(monitor.planned)) from None
    finally:
        if collecting:
            gc.enable()

    stack_urn = f"urn:pulumi:{stack}::{config.project}::{STACK_TYPE}::{config.project}-{stack}"
    return Plan(
        project=config.project,
        stack=stack,
        resources=monitor.planned,
        outputs=monitor.outputs_by_urn.get(stack_urn, {}),
        config=config,
    )
