"""Every pod of ours that needs nothing of the node runs hardened the same way: the catalog's
workloads, the log-retention Job and the events shipper."""

from __future__ import annotations

from components.pod_security import RUN_AS
from tests.conftest import plan_of
from tests.k8s_objects import objects, on_cluster, pod_spec, regions_of

RUNTIME_DEFAULT = {"type": "RuntimeDefault"}
# Pod Security's `restricted` level asks for non-root, no escalation, no capabilities and a
# seccomp profile (kubernetes.io/docs/concepts/security/pod-security-standards); the rest is ours.
POD = {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS, "seccompProfile": RUNTIME_DEFAULT}
CONTAINER = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": RUNTIME_DEFAULT,
}


def test_the_user_is_no_user_of_the_node() -> None:
    assert RUN_AS > 10000


def test_every_pod_that_needs_nothing_of_the_node_is_hardened_alike() -> None:
    plan = plan_of("production")
    hardened = []
    for region in regions_of(plan):
        for workload in [*objects(plan, region, "Deployment"), *objects(plan, region, "Job")]:
            pod = pod_spec(workload)
            assert pod["securityContext"] == POD, workload.name
            assert [c["securityContext"] for c in pod["containers"]] == [CONTAINER], workload.name
            hardened.append(workload.name)
        [events] = [r for r in on_cluster(plan, region) if r.inputs.get("name") == "fluent-bit-events"]
        values = events.inputs["values"]
        assert (values["podSecurityContext"], values["securityContext"]) == (POD, CONTAINER)
        hardened.append(events.name)
    # Per region the two catalog workloads and the events shipper; the hub also the Job.
    assert len(hardened) == 5 * 3 + 1
