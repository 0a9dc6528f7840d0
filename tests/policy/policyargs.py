"""Hand-built arguments for tests of one policy: resources, options and providers built the
way the policy SDK builds them from the engine's request (policy/offline.py converts the
properties), and the messages a policy reports for them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.offline import policy_props


def make_urn(stack: str, resource_type: str, name: str, project: str = "marketplace") -> str:
    return f"urn:pulumi:{stack}::{project}::{resource_type}::{name}"


def options(protect: bool = False, ignore_changes: Iterable[str] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=list(ignore_changes),
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=None,
    )


def resource_args(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    stack: str = "production",
    name: str = "subject",
    protect: bool = False,
    provider: PolicyProviderResource | None = None,
    config: Mapping[str, Any] | None = None,
    ignore_changes: Iterable[str] = (),
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type=resource_type,
        props=policy_props(props),
        urn=make_urn(stack, resource_type, name),
        name=name,
        opts=options(protect, ignore_changes=ignore_changes),
        provider=provider,
        config=config,
    )


def cluster_provider(stack: str = "production", region: str = "nyc3") -> PolicyProviderResource:
    name = f"{region}-k8s"
    return PolicyProviderResource("pulumi:providers:kubernetes", {}, make_urn(stack, "pulumi:providers:kubernetes", name), name)


def policy_resource(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    stack: str = "production",
    name: str = "subject",
    provider: PolicyProviderResource | None = None,
    protect: bool = False,
) -> PolicyResource:
    return PolicyResource(
        resource_type=resource_type,
        props=policy_props(props),
        urn=make_urn(stack, resource_type, name),
        name=name,
        opts=options(protect),
        provider=provider,
        parent=None,
        dependencies=[],
        property_dependencies={},
    )


def stack_args(resources: Iterable[PolicyResource], config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    return StackValidationArgs(resources=list(resources), config=config)


def reported(policy: Policy, args: ResourceValidationArgs | StackValidationArgs) -> list[str]:
    """The messages one policy reports for hand-built arguments."""
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    if isinstance(policy, ResourceValidationPolicy) and isinstance(args, ResourceValidationArgs):
        policy.validate(args, report)
        return messages
    if isinstance(policy, StackValidationPolicy) and isinstance(args, StackValidationArgs):
        policy.validate(args, report)
        return messages
    raise TypeError(f"{policy.name} does not take {type(args).__name__}")
