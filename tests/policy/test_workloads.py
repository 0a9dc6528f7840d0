"""policy/workloads.py: each workload policy on hand-built objects and stacks."""

from __future__ import annotations

import pytest

from policy import workloads
from tests import policy_fixtures as fx
from tests.policy.policycases import (
    DEPLOYMENT,
    Case,
    assert_good_passes_and_bad_fails,
    case_ids,
    cases_of,
    catalog,
    check,
    edit,
    on_cluster,
    stack_check,
)

CASES = cases_of(workloads)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_a_good_resource_passes_and_a_bad_one_fails_with_its_message(case: Case):
    assert_good_passes_and_bad_fails(case)


def test_every_workload_kind_is_read_from_its_pod_template():
    template = DEPLOYMENT["spec"]["template"]
    bad_template = edit(template, lambda t: t["spec"]["containers"][0].update(image="nginx"))
    shapes = {
        "kubernetes:apps/v1:StatefulSet": {"spec": {"template": bad_template}},
        "kubernetes:apps/v1:DaemonSet": {"spec": {"template": bad_template}},
        "kubernetes:core/v1:Pod": {"spec": bad_template["spec"]},
        "kubernetes:batch/v1:Job": {"spec": {"template": bad_template}},
        "kubernetes:batch/v1:CronJob": {"spec": {"jobTemplate": {"spec": {"template": bad_template}}}},
    }
    for type_, props in shapes.items():
        props["metadata"] = {"name": "x", "namespace": "catalog"}
        assert any("has no tag" in m for m in check(workloads.pinned_images, type_, props)), type_
    job = {
        "metadata": {"name": "x"},
        "spec": {"template": edit(template, lambda t: t["spec"]["containers"][0].pop("livenessProbe"))},
    }
    assert check(workloads.probes, "kubernetes:batch/v1:Job", job) == [], "a Job's pod ends by design: no probes asked"


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("registry.digitalocean.com/marketplace/catalog-web:1.0.0", True),
        ("docker.io/envoyproxy/envoy:v1.33.2", True),
        ("ghcr.io/acme/api:sha-3f9c2ab", True),
        ("ghcr.io/acme/api@sha256:" + "a" * 64, True),
        ("ghcr.io/acme/api:1.0.0@sha256:" + "b" * 64, True),
        ("nginx", False),
        ("nginx:latest", False),
        ("nginx:stable", False),
        ("redis:7", False),
        ("registry:5000/app", False),
        ("ghcr.io/acme/api@sha256:short", False),
    ],
)
def test_pinned_means_a_digest_or_a_tag_naming_one_build(image: str, pinned: bool):
    assert (workloads.image_problem(image) is None) == pinned


def test_each_deployment_has_an_hpa_and_a_pdb_on_its_own_cluster():
    assert stack_check(workloads.pdb_and_hpa, on_cluster(*catalog())) == []
    without_hpa = [r for r in on_cluster(*catalog()) if r.resource_type != fx.HPA]
    assert stack_check(workloads.pdb_and_hpa, without_hpa) == [
        "Deployment catalog/catalog-web has no HorizontalPodAutoscaler (spec.scaleTargetRef kind Deployment, name 'catalog-web')"
    ]
    wrong_selector = edit(fx.pdb(), lambda p: p["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "api"}))
    [message] = stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=wrong_selector)))
    assert message.startswith("Deployment catalog/catalog-web has no PodDisruptionBudget whose selector matches its pod labels")
    # The HPA and PDB of another region's cluster do not count.
    split = on_cluster(catalog()[0], region="nyc3") + on_cluster(*catalog()[1:], region="fra1")
    assert len(stack_check(workloads.pdb_and_hpa, split)) == 2


def test_a_pdb_that_blocks_every_drain_is_refused():
    blocking = edit(fx.pdb(), lambda p: p["spec"].update(minAvailable=2))
    del blocking["spec"]["maxUnavailable"]
    [message] = stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=blocking)))
    assert "allows no eviction (minAvailable 2 with as few as 2 replica(s))" in message
    zero = edit(fx.pdb(), lambda p: p["spec"].update(maxUnavailable=0))
    assert "maxUnavailable 0" in stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=zero)))[0]
    expressions = edit(
        fx.pdb(),
        lambda p: p["spec"].update(
            selector={"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["catalog-web"]}]}
        ),
    )
    assert stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=expressions))) == []
    # policy/v1: a PDB without a selector selects no pod at all.
    no_selector = edit(fx.pdb(), lambda p: p["spec"].pop("selector"))
    assert "has no PodDisruptionBudget" in stack_check(workloads.pdb_and_hpa, on_cluster(*catalog(pdb=no_selector)))[0]


def test_each_workload_namespace_has_a_default_deny_network_policy():
    assert stack_check(workloads.default_deny, on_cluster(*catalog())) == []
    without = [r for r in on_cluster(*catalog()) if r.resource_type != fx.NETWORK_POLICY]
    assert stack_check(workloads.default_deny, without) == [
        "namespace 'catalog' runs workloads (catalog-web) without a default-deny NetworkPolicy for Ingress and Egress "
        "(podSelector {}, policyTypes listing it, no rules): every pod could talk to every other"
    ]
    ingress_only = edit(fx.default_deny(), lambda p: p["spec"].update(policyTypes=["Ingress"]))
    assert "for Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=ingress_only)))[0]
    unset_types = edit(fx.default_deny(), lambda p: p["spec"].pop("policyTypes"))
    assert "for Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=unset_types)))[0]
    # A policy that selects some pods, or allows traffic, denies nothing by default.
    assert "Ingress and Egress" in stack_check(workloads.default_deny, on_cluster(*catalog(deny=fx.allow_from_gateway())))[0]
    split = [
        *on_cluster(catalog()[3]),
        *on_cluster(catalog()[0], region="fra1"),
    ]
    assert len(stack_check(workloads.default_deny, split)) == 1
