"""The policy pack over an offline plan, the way `pulumi preview --policy-pack policy` runs it.

For each registered resource the engine sends the pack an AnalyzeRequest (type, URN, name,
inputs, options, provider), and once at the end an AnalyzeStackRequest with every resource's
outputs, parent and dependencies. This module builds those same protobuf messages from a
`Plan` and hands them to the policy SDK's own analyzer servicer, in process, so the policies
see exactly what they see under the CLI:

- properties cross a protobuf Struct: every number becomes a float, nested values arrive as
  read-only Mapping/Sequence proxies, and reading an unknown value raises;
- secrets arrive as plain values (the engine marshals them with their secret mark, the SDK
  unwraps them for Analyze): a policy can check a secret's shape, so never echo one into a
  violation message;
- `protect`, `parent`, ignore-changes and aliases arrive in `args.opts`; the provider (with
  its inputs) in `args.provider`. Resources without an explicit provider get the package's
  default provider, as the engine gives them;
- the pack's enforcement level and the policies' config (`--policy-pack-config`) apply.

What differs from the CLI: inputs are what the program registered, before the provider's
Check (which may add defaults); component resources' registered outputs are not recorded in
the plan, so components reach stack policies with no properties.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy import policy as sdk_policy
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import unknown_checking_proxy

from offline.engine import STACK_TYPE, UNKNOWN, Plan, PlannedResource, SecretValue
from policy.pack import ENFORCEMENT, PACK_NAME, POLICIES

PACK_VERSION = "0.0.1"


@dataclass(frozen=True)
class Violation:
    policy: str
    urn: str
    # What the policy reported, without the policy's description the SDK puts first.
    message: str
    enforcement: str

    def __str__(self) -> str:
        return f"[{self.enforcement}] {self.policy} {self.urn}: {self.message}"


# --- the wire format -----------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """A plan value as the engine marshals it for an analyzer (secrets and unknowns kept)."""
    if isinstance(value, SecretValue):
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": to_wire(value.value)}
    if isinstance(value, Mapping):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    if value == UNKNOWN:
        return rpc.UNKNOWN
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(to_wire(props), struct_pb2.Struct())


def policy_props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Properties as a policy receives them: the SDK's own decoding of the engine's message."""
    decoded = deserialize_properties(json_format.MessageToDict(to_struct(props)))
    proxied: Mapping[str, Any] = unknown_checking_proxy(decoded)
    return proxied


# --- a whole plan through the SDK's analyzer ----------------------------------------------


def _default_provider(plan: Plan, resource: PlannedResource) -> PlannedResource | None:
    """The default provider the engine gives a custom resource that names none."""
    package = resource.type.split(":", 1)[0]
    if not resource.custom or package == "pulumi" or resource.type.startswith("pulumi:providers:"):
        return None
    prefix = f"{package}:"
    inputs: dict[str, Any] = {}
    for key, value in plan.config.values.items():
        if key.startswith(prefix):
            short = key[len(prefix) :]
            inputs[short] = SecretValue(value) if key in plan.config.secret_keys else value
    type_ = f"pulumi:providers:{package}"
    urn = f"urn:pulumi:{plan.stack}::{plan.project}::{type_}::default"
    return PlannedResource(
        urn=urn, id="default", type=type_, name="default", parent=None, custom=True, provider=None,
        inputs=inputs, outputs=inputs, dependencies=[], property_dependencies={}, protect=False,
        retain_on_delete=False, ignore_changes=[], aliases=[],
    )  # fmt: skip


def _provider_of(plan: Plan, resource: PlannedResource, index: Mapping[str, PlannedResource]) -> PlannedResource | None:
    urn = resource.provider_urn
    if urn:
        return index.get(urn)
    return _default_provider(plan, resource)


def _options(resource: PlannedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=resource.ignore_changes,
        aliases=resource.aliases,
        parent=resource.parent or "",
    )


def _provider_message(provider: PlannedResource | None) -> analyzer_pb2.AnalyzerProviderResource | None:
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=to_struct(provider.inputs), urn=provider.urn, name=provider.name
    )


def _stack_resource(plan: Plan) -> PlannedResource:
    urn = f"urn:pulumi:{plan.stack}::{plan.project}::{STACK_TYPE}::{plan.project}-{plan.stack}"
    return PlannedResource(
        urn=urn, id="", type=STACK_TYPE, name=f"{plan.project}-{plan.stack}", parent=None, custom=False,
        provider=None, inputs={}, outputs=plan.outputs, dependencies=[], property_dependencies={},
        protect=False, retain_on_delete=False, ignore_changes=[], aliases=[],
    )  # fmt: skip


def _violations(response: analyzer_pb2.AnalyzeResponse, default_urn: str = "") -> list[Violation]:
    found = []
    for diagnostic in response.diagnostics:
        _, _, detail = diagnostic.message.partition("\n")
        found.append(
            Violation(
                policy=diagnostic.policyName,
                urn=diagnostic.urn or default_urn,
                message=detail or diagnostic.message,
                enforcement=analyzer_pb2.EnforcementLevel.Name(diagnostic.enforcementLevel).lower(),
            )
        )
    return found


def analyzer(
    policies: list[Policy] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    enforcement: EnforcementLevel = ENFORCEMENT,
) -> _PolicyAnalyzerServicer:
    """The SDK's analyzer over `policies` (the whole pack by default), configured as by
    `--policy-pack-config` with `config` ({policy name: {key: value}}).

    A policy's config carries its enforcement level too. The CLI fills it in from the
    policy (or the pack) when the config file gives none (pulumi/pulumi
    ReconcilePolicyPackConfig); sent empty, the protobuf default would make the policy
    advisory, so it is filled in here the same way."""
    chosen = list(policies or POLICIES)
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, chosen, enforcement)
    if config:
        own = {policy.name: policy.enforcement_level or enforcement for policy in chosen}

        def policy_config(name: str, values: Mapping[str, Any]) -> analyzer_pb2.PolicyConfig:
            properties = {key: value for key, value in values.items() if key != "enforcementLevel"}
            level = EnforcementLevel(values["enforcementLevel"]) if "enforcementLevel" in values else own.get(name, enforcement)
            return analyzer_pb2.PolicyConfig(
                enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.value.upper()), properties=to_struct(properties)
            )

        request = analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={name: policy_config(name, values) for name, values in config.items()}
        )
        servicer.Configure(request, None)
    return servicer


class _DecodeOnce:
    """json_format, deserialize_properties and unknown_checking_proxy as the policy SDK uses
    them, each doing its work once per message: the SDK's analyzer decodes a resource's
    properties (and its provider's) into a dict, converts it and wraps it in read-only proxies
    again for every policy, which was most of the pack's time over a plan (production: 0.77 s,
    then 0.22 s with messages decoded once, less again with the proxies shared). Sharing is
    safe: the dicts are only read, and the proxies are read-only views."""

    def __init__(self) -> None:
        self._decoded: dict[tuple[Any, ...], Any] = {}
        # Keyed by the id of an object the cache itself keeps alive, so no id is reused.
        self._converted: dict[tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}
        self._proxied: dict[int, tuple[Any, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        key = (type(message), message.SerializeToString(deterministic=True), args, tuple(sorted(kwargs.items())))
        if key not in self._decoded:
            self._decoded[key] = json_format.MessageToDict(message, *args, **kwargs)
        return self._decoded[key]

    def deserialize_properties(self, decoded: Any, *args: Any) -> Any:
        key = (id(decoded), args)
        if key not in self._converted:
            self._converted[key] = (decoded, deserialize_properties(decoded, *args))
        return self._converted[key][1]

    def unknown_checking_proxy(self, value: Any) -> Any:
        if id(value) not in self._proxied:
            self._proxied[id(value)] = (value, unknown_checking_proxy(value))
        return self._proxied[id(value)][1]


@contextmanager
def _decoding_once() -> Iterator[None]:
    once = _DecodeOnce()
    saved = (sdk_policy.json_format, sdk_policy.deserialize_properties, sdk_policy.unknown_checking_proxy)
    sdk_policy.json_format = once
    sdk_policy.deserialize_properties = once.deserialize_properties  # type: ignore[assignment]
    sdk_policy.unknown_checking_proxy = once.unknown_checking_proxy  # type: ignore[assignment]
    try:
        yield
    finally:
        sdk_policy.json_format, sdk_policy.deserialize_properties, sdk_policy.unknown_checking_proxy = saved


def analyze_plan(
    plan: Plan,
    policies: list[Policy] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    memo: dict[bytes, list[Violation]] | None = None,
) -> list[Violation]:
    """Every violation the pack reports for `plan`: per resource, then for the stack.

    `memo` keeps each resource's violations by its exact AnalyzeRequest, for callers that
    analyze many plans differing in a few resources with the same policies and config (a
    resource policy sees nothing but the request)."""
    with _decoding_once():
        return _analyze(plan, analyzer(policies, config), memo)


def _analyze(plan: Plan, servicer: _PolicyAnalyzerServicer, memo: dict[bytes, list[Violation]] | None) -> list[Violation]:
    servicer.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(stack=plan.stack, project=plan.project, dry_run=True), None
    )
    index = plan.by_urn()
    resources = [_stack_resource(plan), *plan.resources]
    violations: list[Violation] = []
    for resource in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=to_struct(resource.inputs),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
            provider=_provider_message(_provider_of(plan, resource, index)),
        )
        key = request.SerializeToString(deterministic=True) if memo is not None else b""
        found = memo.get(key) if memo is not None else None
        if found is None:
            found = _violations(servicer.Analyze(request, None), resource.urn)
            if memo is not None:
                memo[key] = found
        violations += found

    stack_request = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=resource.type,
                # Stack policies see the state after the deploy: outputs, not inputs.
                properties=to_struct(resource.outputs),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
                provider=_provider_message(_provider_of(plan, resource, index)),
                parent=resource.parent or "",
                dependencies=sorted(set(resource.dependencies)),
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                    for key, urns in resource.property_dependencies.items()
                },
            )
            for resource in resources
        ]
    )
    violations += _violations(servicer.AnalyzeStack(stack_request, None))
    return violations
