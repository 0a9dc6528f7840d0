"""Kubernetes workloads: each container hardened, each catalog Deployment able to survive
node drains and load, each workload namespace closed by default.

The resource policies read the pod template of every workload kind the program can declare
(Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job, CronJob). Objects inside Helm
releases are rendered by the provider and never reach a policy: those are pinned by chart
version here, and scanned by checkov on the rendered manifests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.images import image_problem as pinned_image_problem
from policy.common import UNKNOWN, Report, elements, is_true, k8s_name, keys, namespace_of, peek, whole

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"

# type -> (path to the pod spec, runs until stopped)
WORKLOADS: dict[str, tuple[tuple[str, ...], bool]] = {
    DEPLOYMENT: (("spec", "template", "spec"), True),
    "kubernetes:apps/v1:StatefulSet": (("spec", "template", "spec"), True),
    "kubernetes:apps/v1:DaemonSet": (("spec", "template", "spec"), True),
    "kubernetes:apps/v1:ReplicaSet": (("spec", "template", "spec"), True),
    "kubernetes:core/v1:Pod": (("spec",), True),
    # A Job's pod ends by design: probes would only restart it mid-run.
    "kubernetes:batch/v1:Job": (("spec", "template", "spec"), False),
    "kubernetes:batch/v1:CronJob": (("spec", "jobTemplate", "spec", "template", "spec"), False),
}

_KIND = {token: token.rsplit(":", 1)[1] for token in WORKLOADS}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Any:
    path, _ = WORKLOADS[resource_type]
    return peek(props, *path)


def _containers(pod: Any, *, init: bool = True) -> Iterator[tuple[str, Any]]:
    groups = [("container", "containers")]
    if init:
        groups += [("init container", "initContainers"), ("ephemeral container", "ephemeralContainers")]
    for label, field in groups:
        for container in elements(peek(pod, field)):
            name = peek(container, "name")
            yield f"{label} {name!r}", container


def _workload_check(check: Callable[[str, Any, bool], Iterator[str]]) -> Callable[[ResourceValidationArgs, Report], None]:
    """A resource validation over the pod spec of any workload kind."""

    def validate(args: ResourceValidationArgs, report: Report) -> None:
        if args.resource_type not in WORKLOADS:
            return
        pod = pod_spec(args.resource_type, args.props)
        if pod is UNKNOWN:
            return
        where = f"{_KIND[args.resource_type]} {k8s_name(args.props, args.name)}"
        for problem in check(args.resource_type, pod, WORKLOADS[args.resource_type][1]):
            report(f"{where}: {problem}")

    return validate


def _probes(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    if not long_running:
        return
    for label, container in _containers(pod, init=False):
        for probe in ("readinessProbe", "livenessProbe"):
            if not peek(container, probe):
                yield f"{label} has no {probe}"


def _resources(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        if label.startswith("ephemeral"):
            continue  # the API refuses resources on ephemeral containers
        for bound in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not peek(container, "resources", bound, resource):
                    yield f"{label} sets no {resource} {bound[:-1]} (resources.{bound}.{resource})"


def _effective(pod: Any, container: Any, field: str, *more: str) -> Any:
    """A securityContext field as the kubelet applies it: the container's, else the pod's."""
    own = peek(container, "securityContext", field, *more)
    return own if own is not None else peek(pod, "securityContext", field, *more)


def _non_root(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        if not is_true(_effective(pod, container, "runAsNonRoot")):
            yield f"{label} may run as root: set securityContext.runAsNonRoot=true (pod or container)"
        if whole(_effective(pod, container, "runAsUser")) == 0:
            yield f"{label} runs as user 0 (root)"


def _read_only_root(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        if not is_true(peek(container, "securityContext", "readOnlyRootFilesystem")):
            yield (
                f"{label} can write its root filesystem: set securityContext.readOnlyRootFilesystem=true "
                "(mount an emptyDir where it must write)"
            )


def _no_escalation(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        # Unset means allowed: the kubelet's default is true.
        if peek(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{label} may gain privileges: set securityContext.allowPrivilegeEscalation=false"
        if peek(container, "securityContext", "privileged") is True:
            yield f"{label} is privileged"


ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def _capabilities(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        capabilities = peek(container, "securityContext", "capabilities")
        dropped = {str(c).upper() for c in elements(peek(capabilities, "drop"))}
        if "ALL" not in dropped:
            yield f"{label} keeps the runtime's default capabilities: set securityContext.capabilities.drop=['ALL']"
        added = sorted({str(c).upper() for c in elements(peek(capabilities, "add"))} - ALLOWED_ADDED_CAPABILITIES)
        if added:
            yield f"{label} adds capabilities {', '.join(added)} (only NET_BIND_SERVICE may be added back)"


_SECCOMP_OK = ("RuntimeDefault", "Localhost")


def _seccomp(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        profile = _effective(pod, container, "seccompProfile", "type")
        if profile is not UNKNOWN and profile not in _SECCOMP_OK:
            shown = "no seccomp profile (Unconfined)" if profile is None else f"seccomp profile {profile!r}"
            yield f"{label} runs with {shown}: set securityContext.seccompProfile.type=RuntimeDefault"


def image_problem(image: Any) -> str | None:
    """Why a container's image is not pinned to one build, or None: the stack settings' own
    rule (components/images.py), so no image they accept is refused here at deploy."""
    if image is UNKNOWN:
        return None
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    problem = pinned_image_problem(image)
    return f"image {image!r} {problem}" if problem else None


def _pinned_images(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for label, container in _containers(pod):
        problem = image_problem(peek(container, "image"))
        if problem:
            yield f"{label} {problem}"


def _host_namespaces(resource_type: str, pod: Any, long_running: bool) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if peek(pod, field) is True:
            yield f"the pod sets {field}: it would share the node's namespace"
    for label, container in _containers(pod):
        for port in elements(peek(container, "ports")):
            host_port = whole(peek(port, "hostPort"))
            if host_port:
                yield f"{label} binds hostPort {host_port} on the node"


def _helm_chart_pinned(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != HELM_RELEASE:
        return
    chart = peek(args.props, "chart")
    local = isinstance(chart, str) and chart.startswith(("./", "../", "/"))
    if not local and not peek(args.props, "version"):
        report(
            f"Helm release {args.name} installs chart {chart!r} without a version: each deploy could install a different chart"
        )


def _policy(name: str, description: str, check: Callable[[str, Any, bool], Iterator[str]]) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=_workload_check(check))


probes = _policy("k8s-probes", "Long-running containers have readiness and liveness probes.", _probes)
resources = _policy("k8s-resources", "Containers set CPU and memory requests and limits.", _resources)
non_root = _policy("k8s-non-root", "Containers run as a non-root user.", _non_root)
read_only_root = _policy("k8s-read-only-root-filesystem", "Containers have a read-only root filesystem.", _read_only_root)
no_escalation = _policy(
    "k8s-no-privilege-escalation", "Containers are not privileged and cannot gain privileges.", _no_escalation
)
capabilities = _policy(
    "k8s-drop-all-capabilities", "Containers drop all Linux capabilities (NET_BIND_SERVICE may come back).", _capabilities
)
seccomp = _policy("k8s-seccomp-runtime-default", "Containers run under the RuntimeDefault seccomp profile.", _seccomp)
pinned_images = _policy(
    "k8s-pinned-images", "Images are pinned by digest or by a tag naming one build (never latest or untagged).", _pinned_images
)
host_namespaces = _policy(
    "k8s-no-host-namespaces", "Pods use neither hostNetwork, hostPID, hostIPC nor hostPort.", _host_namespaces
)
helm_chart_pinned = ResourceValidationPolicy(
    name="helm-chart-pinned",
    description="Helm releases pin their chart version.",
    validate=_helm_chart_pinned,
)


# --- stack policies: relations between objects of one cluster ---------------------------


def cluster_of(resource: PolicyResource) -> str:
    """Objects of one cluster share its Kubernetes provider."""
    return resource.provider.urn if resource.provider else ""


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A Kubernetes label selector against a label set: an empty selector matches all pods,
    a missing one none (policy/v1 PodDisruptionBudget semantics)."""
    if selector is UNKNOWN:
        return True
    if selector is None:
        return False
    for key in keys(peek(selector, "matchLabels")):
        if labels.get(key) != peek(selector, "matchLabels", key):
            return False
    for expression in elements(peek(selector, "matchExpressions")):
        key, operator = peek(expression, "key"), peek(expression, "operator")
        values = {str(v) for v in elements(peek(expression, "values"))}
        present = key in labels
        if operator == "In" and not (present and str(labels[key]) in values):
            return False
        if operator == "NotIn" and present and str(labels[key]) in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _labels(props: Mapping[str, Any], *path: str) -> dict[str, Any]:
    labels = peek(props, *path)
    return {key: peek(labels, key) for key in keys(labels)}


def _drain_problem(pdb: PolicyResource, min_replicas: int) -> str | None:
    """Why a PDB would block every voluntary eviction (node drains, surge upgrades), or None."""
    max_unavailable = peek(pdb.props, "spec", "maxUnavailable")
    if max_unavailable in (0, "0", "0%"):
        return "maxUnavailable 0"
    min_available = peek(pdb.props, "spec", "minAvailable")
    if min_available == "100%":
        return "minAvailable 100%"
    count = whole(min_available)
    if count is not None and count >= min_replicas:
        return f"minAvailable {count} with as few as {min_replicas} replica(s)"
    return None


def _pdb_and_hpa(args: StackValidationArgs, report: Report) -> None:
    by_place: dict[tuple[str, str], dict[str, list[PolicyResource]]] = defaultdict(lambda: defaultdict(list))
    for resource in args.resources:
        if resource.resource_type in (DEPLOYMENT, PDB, HPA):
            place = (cluster_of(resource), namespace_of(resource.props))
            by_place[place][resource.resource_type].append(resource)

    for objects in by_place.values():
        for deployment in objects[DEPLOYMENT]:
            name = peek(deployment.props, "metadata", "name")
            where = f"Deployment {k8s_name(deployment.props, deployment.name)}"
            hpas = [
                hpa
                for hpa in objects[HPA]
                if peek(hpa.props, "spec", "scaleTargetRef", "kind") == "Deployment"
                and peek(hpa.props, "spec", "scaleTargetRef", "name") in (name, UNKNOWN)
            ]
            if not hpas:
                report(
                    f"{where} has no HorizontalPodAutoscaler (spec.scaleTargetRef kind Deployment, name {name!r})", deployment.urn
                )
            pod_labels = _labels(deployment.props, "spec", "template", "metadata", "labels")
            pdbs = [pdb for pdb in objects[PDB] if selector_matches(peek(pdb.props, "spec", "selector"), pod_labels)]
            if not pdbs:
                report(f"{where} has no PodDisruptionBudget whose selector matches its pod labels {pod_labels}", deployment.urn)
            min_replicas = min(
                (whole(peek(hpa.props, "spec", "minReplicas")) or 1 for hpa in hpas),
                default=whole(peek(deployment.props, "spec", "replicas")) or 1,
            )
            for pdb in pdbs:
                problem = _drain_problem(pdb, min_replicas)
                if problem:
                    report(
                        f"{where}: PodDisruptionBudget {k8s_name(pdb.props, pdb.name)} allows no eviction ({problem}): "
                        "node drains and surge upgrades would stall",
                        pdb.urn,
                    )


def _denies(policy: PolicyResource, direction: str) -> bool:
    """A NetworkPolicy that selects every pod of its namespace and allows nothing in `direction`."""
    spec = peek(policy.props, "spec")
    selector = peek(spec, "podSelector")
    if keys(peek(selector, "matchLabels")) or elements(peek(selector, "matchExpressions")):
        return False
    types = [str(t) for t in elements(peek(spec, "policyTypes"))]
    if not types:
        # Unset policyTypes mean Ingress, plus Egress only when egress rules are given.
        types = ["Ingress", *(["Egress"] if elements(peek(spec, "egress")) else [])]
    return direction in types and not elements(peek(spec, direction.lower()))


def _default_deny(args: StackValidationArgs, report: Report) -> None:
    workloads: dict[tuple[str, str], list[PolicyResource]] = defaultdict(list)
    policies: dict[tuple[str, str], list[PolicyResource]] = defaultdict(list)
    for resource in args.resources:
        place = (cluster_of(resource), namespace_of(resource.props))
        if resource.resource_type in WORKLOADS:
            workloads[place].append(resource)
        elif resource.resource_type == NETWORK_POLICY:
            policies[place].append(resource)

    for place, residents in sorted(workloads.items()):
        missing = [d for d in ("Ingress", "Egress") if not any(_denies(p, d) for p in policies[place])]
        if missing:
            first = residents[0]
            report(
                f"namespace {place[1]!r} runs workloads ({', '.join(sorted({r.name for r in residents}))}) "
                f"without a default-deny NetworkPolicy for {' and '.join(missing)} "
                "(podSelector {}, policyTypes listing it, no rules): every pod could talk to every other",
                first.urn,
            )


pdb_and_hpa = StackValidationPolicy(
    name="k8s-deployment-pdb-and-hpa",
    description="Every Deployment has a HorizontalPodAutoscaler and a PodDisruptionBudget that still allows node drains.",
    validate=_pdb_and_hpa,
)

default_deny = StackValidationPolicy(
    name="k8s-default-deny-network-policy",
    description="Every namespace that runs workloads has a default-deny NetworkPolicy for ingress and egress.",
    validate=_default_deny,
)

POLICIES = [
    probes,
    resources,
    non_root,
    read_only_root,
    no_escalation,
    capabilities,
    seccomp,
    pinned_images,
    host_namespaces,
    helm_chart_pinned,
    pdb_and_hpa,
    default_deny,
]
