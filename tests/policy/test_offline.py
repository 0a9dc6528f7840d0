"""The whole pack over every stack's offline plan, through the policy SDK's own analyzer
(policy/offline.py): no violation today, and every policy able to stop a deploy."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, Policy, ResourceValidationArgs, ResourceValidationPolicy

from offline.engine import Plan
from offline.stack_config import ROOT, stand_in
from policy import clusters, observability, storage
from policy.offline import analyze_plan, analyzer, to_struct
from policy.pack import PACK_NAME, POLICIES
from tests import policy_fixtures as fx
from tests.conftest import STACKS, plan_of
from tests.policy.policyargs import reported, resource_args
from tests.policy.policycases import CLUSTER, cluster

POLICY_DIR = ROOT / "policy"


# The whole pack's per-resource verdicts, shared by the tests below that run it with its own
# config: plans that differ in a resource or two analyze only those again.
ANALYZED: dict[bytes, list[Any]] = {}


def test_every_stack_passes_the_whole_pack(stack_plan: Plan):
    assert [str(v) for v in analyze_plan(stack_plan, memo=ANALYZED)] == []


@pytest.mark.parametrize("stack", STACKS)
def test_hardened_workloads_and_edge_pass_on_every_stack(stack: str):
    # The shapes the workloads and edge branches are building: the integrator's merge
    # must keep them passing.
    plan = fx.with_resources(plan_of(stack), fx.good_edge_and_workloads())
    assert [str(v) for v in analyze_plan(plan, memo=ANALYZED)] == []


def test_the_pack_config_file_sets_the_dev_budget():
    config = json.loads((POLICY_DIR / "policy-config.json").read_text())
    assert set(config) <= {p.name for p in POLICIES}
    assert config["cost-dev-monthly-budget"]["maxMonthlyUsd"] == 150
    assert analyze_plan(plan_of("dev-alice"), config=config) == []


def test_the_pack_decodes_each_resource_once_and_leaves_the_sdk_as_it_was(monkeypatch: pytest.MonkeyPatch):
    from google.protobuf import json_format
    from pulumi_policy import policy as sdk_policy

    decoded: list[int] = []
    real_decode = json_format.MessageToDict

    def counting(message, *args, **kwargs):
        decoded.append(1)
        return real_decode(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    plan = plan_of("dev")
    broken = fx.edited(plan, clusters.CLUSTER, lambda i: i["controlPlaneFirewall"].update(enabled=False))
    assert [v.policy for v in analyze_plan(broken)] == ["doks-control-plane-firewall"]
    # Properties (inputs and outputs) and providers are decoded once each, not once per policy.
    distinct = 2 * (len(plan.resources) + 1) + len(plan.of_type("pulumi:providers:kubernetes")) + 4
    assert 0 < len(decoded) <= distinct < len(POLICIES) * len(plan.resources)
    assert sdk_policy.json_format is json_format


def test_a_configured_policy_keeps_its_enforcement_level():
    """The CLI sends a configured policy with the policy's (here the pack's) enforcement
    level unless the config names one; the bare protobuf default would be advisory."""
    over_budget = plan_of("dev", overrides={"marketplace:regions": ["nyc3", "fra1"]})
    config = json.loads((POLICY_DIR / "policy-config.json").read_text())
    (violation,) = analyze_plan(over_budget, config=config)
    assert (violation.policy, violation.enforcement) == ("cost-dev-monthly-budget", "mandatory")
    lenient = {"cost-dev-monthly-budget": {**config["cost-dev-monthly-budget"], "enforcementLevel": "advisory"}}
    assert [v.enforcement for v in analyze_plan(over_budget, config=lenient)] == ["advisory"]


# --- every policy can fail the pack --------------------------------------------------------


# Break cases plan one region: a policy that catches a bad region catches it in five, and
# the pack then runs over a fifth of the resources.
ONE_REGION = {"marketplace:regions": ["nyc3"]}


def small(stack: str, **overrides: Any) -> Plan:
    return plan_of(stack, overrides={**ONE_REGION, **overrides})


def staged(stack: str) -> Plan:
    return fx.with_resources(small(stack), fx.good_edge_and_workloads())


def without(plan: Plan, type_: str) -> Plan:
    return replace(plan, resources=[r for r in plan.resources if r.type != type_])


def web(props: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = props["spec"]["template"]["spec"]["containers"][0]
    return first


DEPLOYMENT = fx.DEPLOYMENT
BREAKS: dict[str, Callable[[], Plan]] = {
    "doks-control-plane-firewall": lambda: fx.edited(
        plan_of("dev"), clusters.CLUSTER, lambda i: i["controlPlaneFirewall"].update(enabled=False)
    ),
    "doks-pinned-version": lambda: replace(
        plan_of("dev"),
        resources=[
            replace(r, ignore_changes=["nodePool.nodeCount"]) if r.type == clusters.CLUSTER else r
            for r in plan_of("dev").resources
        ],
    ),
    "doks-production-ha-control-plane": lambda: small("production", **{"marketplace:haControlPlane": False}),
    "doks-production-surge-upgrade": lambda: small("production", **{"marketplace:surgeUpgrade": False}),
    "doks-production-maintenance-window": lambda: fx.edited(
        small("production"), clusters.CLUSTER, lambda i: i.pop("maintenancePolicy")
    ),
    "doks-production-autoscaling": lambda: small(
        "production", **{"marketplace:nodePool": {"size": "s-4vcpu-8gb", "minNodes": 1, "maxNodes": 10}}
    ),
    "spaces-private-acl": lambda: fx.edited(plan_of("dev"), storage.BUCKET, lambda i: i.update(acl="public-read")),
    "spaces-production-versioning": lambda: fx.edited(
        small("production"), storage.BUCKET, lambda i: i.update(versioning={"enabled": False})
    ),
    "spaces-production-protect": lambda: fx.edited(small("production"), storage.BUCKET, protect=False),
    "k8s-probes": lambda: fx.edited(staged("staging"), DEPLOYMENT, lambda d: web(d).pop("readinessProbe")),
    "k8s-resources": lambda: fx.edited(staged("staging"), DEPLOYMENT, lambda d: web(d)["resources"].pop("limits")),
    "k8s-non-root": lambda: fx.edited(
        staged("staging"), DEPLOYMENT, lambda d: web(d)["securityContext"].update(runAsNonRoot=False)
    ),
    "k8s-read-only-root-filesystem": lambda: fx.edited(
        staged("dev"), DEPLOYMENT, lambda d: web(d)["securityContext"].pop("readOnlyRootFilesystem")
    ),
    "k8s-no-privilege-escalation": lambda: fx.edited(
        staged("dev"), DEPLOYMENT, lambda d: web(d)["securityContext"].pop("allowPrivilegeEscalation")
    ),
    "k8s-drop-all-capabilities": lambda: fx.edited(
        staged("dev"), DEPLOYMENT, lambda d: web(d)["securityContext"].update(capabilities={"drop": []})
    ),
    "k8s-seccomp-runtime-default": lambda: fx.edited(
        staged("dev"), DEPLOYMENT, lambda d: d["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile")
    ),
    "k8s-pinned-images": lambda: fx.edited(staged("production"), DEPLOYMENT, lambda d: web(d).update(image="nginx:latest")),
    "k8s-no-host-namespaces": lambda: fx.edited(
        staged("production"), DEPLOYMENT, lambda d: d["spec"]["template"]["spec"].update(hostPID=True)
    ),
    "helm-chart-pinned": lambda: fx.edited(staged("production"), fx.HELM_RELEASE, lambda r: r.pop("version")),
    "k8s-deployment-pdb-and-hpa": lambda: without(staged("production"), fx.HPA),
    "k8s-default-deny-network-policy": lambda: fx.edited(
        staged("production"),
        fx.NETWORK_POLICY,
        # Every namespace's deny-all loses its egress half (the program's and the fixture's).
        change=lambda p: p["spec"].update(policyTypes=["Ingress"]) if not p["spec"].get("egress") else None,
    ),
    "cloudflare-pool-monitored": lambda: fx.edited(staged("production"), fx.POOL, lambda p: p.pop("monitor")),
    "cloudflare-pool-health-majority": lambda: fx.edited(
        staged("production"), fx.POOL, lambda p: p.update(checkRegions=["WEU", "EEU"])
    ),
    "cloudflare-latency-steering-measured": lambda: fx.edited(
        small("production", **{"marketplace:steeringPolicy": "dynamic_latency"}),
        fx.POOL,
        lambda p: p.update(checkRegions=["ENAM", "NSAM", "WNAM"]),
    ),
    "cloudflare-lb-fallback-pool": lambda: fx.edited(staged("production"), fx.LOAD_BALANCER, lambda lb: lb.pop("fallbackPool")),
    "edge-origins-cloudflare-only": lambda: fx.edited(
        staged("production"),
        fx.ENVOY_PROXY,
        lambda p: p["spec"]["provider"]["kubernetes"]["envoyService"]["loadBalancerSourceRanges"].append("0.0.0.0/0"),
    ),
    "edge-client-certificates-required": lambda: fx.edited(
        staged("production"),
        fx.CLIENT_TRAFFIC_POLICY,
        lambda p: p["spec"]["tls"]["clientValidation"].update(optional=True),
    ),
    "edge-gateways-locked": lambda: without(staged("production"), fx.CLIENT_TRAFFIC_POLICY),
    "observability-alerts-routed": lambda: fx.edited(
        small("production"),
        fx.HELM_RELEASE,
        lambda r: r["values"]["alertmanager"]["alertmanagerSpec"].update(useExistingSecret=False),
        name="nyc3-monitoring-prometheus",
    ),
    "observability-production-log-store-protected": lambda: fx.edited(small("production"), observability.DATABASE, protect=False),
    "observability-production-log-store-firewall": lambda: fx.edited(
        small("production"),
        observability.DATABASE_FIREWALL,
        lambda f: f["rules"].append({"type": "ip_addr", "value": "0.0.0.0/0"}),
    ),
    "cost-dev-monthly-budget": lambda: plan_of(
        "dev-alice", overrides={"marketplace:nodePool": {"size": "s-8vcpu-16gb", "maxNodes": 3}}
    ),
}


@pytest.mark.parametrize("name", [policy.name for policy in POLICIES])
def test_each_policy_can_stop_a_deploy_on_its_own(name: str):
    assert name in BREAKS, f"policy {name} has no broken plan in BREAKS: add one that only it refuses"
    violations = analyze_plan(BREAKS[name](), memo=ANALYZED)
    assert violations, f"{name} let its broken plan through"
    assert {v.policy for v in violations} == {name}, [str(v) for v in violations]
    assert {v.enforcement for v in violations} == {"mandatory"}


def test_the_memo_analyzes_only_changed_resources_and_changes_no_verdict():
    seen: list[str] = []

    def public_buckets(args: ResourceValidationArgs, report: Any) -> None:
        seen.append(args.urn)
        if args.resource_type == storage.BUCKET and args.props.get("acl") == "public-read":
            report("public")

    probe: list[Policy] = [ResourceValidationPolicy(name="probe", description="counts its calls", validate=public_buckets)]
    plan = plan_of("dev")
    broken = fx.edited(plan, storage.BUCKET, lambda i: i.update(acl="public-read"))
    memo: dict[bytes, list[Any]] = {}
    assert analyze_plan(plan, policies=probe, memo=memo) == []
    assert len(seen) == len(plan.resources) + 1  # and the stack
    found = analyze_plan(broken, policies=probe, memo=memo)
    assert len(seen) == len(plan.resources) + 2, "only the edited bucket is analyzed again"
    assert [v.message for v in found] == ["public"]
    assert found == analyze_plan(broken, policies=probe)


def test_the_pack_declares_every_policy_mandatory_under_one_name():
    info = analyzer().GetAnalyzerInfo(empty_pb2.Empty(), None)
    assert info.name == PACK_NAME == "marketplace-policies"
    assert len({p.name for p in info.policies}) == len(info.policies) == len(POLICIES) == len(BREAKS)
    assert {analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel) for p in info.policies} == {"MANDATORY"}
    assert all(p.description for p in info.policies)


def test_policies_see_secrets_as_plain_values_and_providers_with_their_inputs():
    # What the real engine does: secrets are unwrapped before a policy runs, so the pack
    # must never echo a property into a violation message.
    seen: dict[str, Any] = {}

    def spy(args: ResourceValidationArgs, report: Any) -> None:
        if args.resource_type == clusters.CLUSTER:
            seen["provider"] = args.provider
        if args.resource_type == "pulumi:providers:kubernetes":
            seen["kubeconfig"] = args.props["kubeconfig"]
        if args.resource_type == storage.BUCKET:
            seen["protect"], seen["parent"] = args.opts.protect, args.opts.parent

    probe = ResourceValidationPolicy(name="probe", description="records its arguments", validate=spy)
    assert analyze_plan(plan_of("production"), policies=[probe]) == []
    assert isinstance(seen["kubeconfig"], str) and stand_in("digitalocean:token") in seen["kubeconfig"]
    assert seen["provider"].resource_type == "pulumi:providers:digitalocean"
    assert seen["provider"].props["token"] == stand_in("digitalocean:token")
    assert seen["protect"] is True and seen["parent"].endswith("marketplace:index:Assets::assets")


# --- the pack as the Pulumi CLI runs it ------------------------------------------------------


def test_main_builds_only_the_policy_pack(monkeypatch: pytest.MonkeyPatch):
    import pulumi_policy

    built: list[Mapping[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    monkeypatch.setattr(sys, "path", list(sys.path))
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert built == [{"name": "marketplace-policies", "enforcement_level": EnforcementLevel.MANDATORY, "policies": POLICIES}]


def test_the_pack_project_files_pin_what_the_program_pins():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    pins = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                package, version = line.split("==")
                pins[package.lower()] = version
    for line in (POLICY_DIR / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            package, version = line.split("==")
            assert pins[package.lower()] == version, (
                f"policy/requirements.txt pins {package} {version}, the repo {pins[package.lower()]}"
            )


def test_the_pack_answers_the_engine_over_grpc():
    # `python policy/` as the CLI starts it: the pack prints its port, then serves.
    process = subprocess.Popen(
        [sys.executable, str(POLICY_DIR)],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": ""},
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().strip()
        assert port.isdigit(), process.stderr.read().decode() if process.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert [p.name for p in info.policies] == [p.name for p in POLICIES]
            urn = f"urn:pulumi:production::marketplace::{storage.BUCKET}::assets"
            response = stub.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=storage.BUCKET,
                    properties=to_struct({"region": "nyc3", "acl": "public-read", "versioning": {"enabled": True}}),
                    urn=urn,
                    name="assets",
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
                ),
                timeout=30,
            )
            assert [(d.policyName, analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel)) for d in response.diagnostics] == [
                ("spaces-private-acl", "MANDATORY")
            ]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_numbers_arrive_as_floats_and_still_compare():
    args = resource_args(CLUSTER, cluster())
    assert args.props["nodePool"]["minNodes"] == 3.0 and isinstance(args.props["nodePool"]["minNodes"], float)
    assert not isinstance(args.props["nodePool"], dict), "policies must test Mapping, not dict"
    assert reported(clusters.production_autoscaling, args) == []
