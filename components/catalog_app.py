"""One catalog workload (the web front end or the API) on a regional cluster, hardened: what
both have in common, built the same way; components/catalog.py gives each its differences."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from components.cluster import POOL_LABEL, WORKERS, RegionalCluster
from components.pod_security import hardened_container, hardened_pod
from components.settings.reader import Secret
from components.settings.workloads import AppSettings

k8s = kubernetes
meta = kubernetes.meta.v1
core = kubernetes.core.v1

HTTP_PORT = 8080  # unprivileged: the containers run as a non-root user
METRICS_PORT = 9090
SERVICE_PORT = 80
API_KEY_DIR = "/var/run/secrets/catalog"
API_KEY_FILE = "api-key"


def app_labels(role: str) -> dict[str, str]:
    """The selector labels of a workload: never change them (selectors are immutable)."""
    return {"app.kubernetes.io/name": f"catalog-{role}", "app.kubernetes.io/part-of": "marketplace"}


def config_checksum(data: Mapping[str, str]) -> str:
    """Pod-template annotation that changes with the ConfigMap's data, so a config change
    rolls the pods. Only non-secret data is hashed (the API key rolls the pods another way:
    see CatalogApp)."""
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class AppSpec:
    """What differs between the two workloads; CatalogApp does the rest the same way."""

    role: str
    settings: AppSettings
    environment: dict[str, str]
    ingress: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs]
    egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]
    api_key: Secret | None = None


class CatalogApp(pulumi.ComponentResource):
    """One catalog workload, hardened: its own service account (no API token mounted),
    non-root, read-only root file system, no capabilities, RuntimeDefault seccomp, probes,
    requests and limits, spread across nodes, autoscaled, with a disruption budget and a
    network policy of its own."""

    deployment: k8s.apps.v1.Deployment
    service: core.Service
    # The selector labels of its pods (what monitors and policies select).
    labels: dict[str, str]

    def __init__(
        self,
        name: str,
        spec: AppSpec,
        *,
        namespace: pulumi.Input[str],
        cluster: RegionalCluster,
        pull_secret: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:CatalogApp", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        app = f"catalog-{spec.role}"
        labels = self.labels = app_labels(spec.role)
        all_labels = {**labels, "app.kubernetes.io/component": spec.role}
        selector = meta.LabelSelectorArgs(match_labels=labels)
        resources = spec.settings.resources

        account = core.ServiceAccount(
            f"{name}-account",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            # Neither workload talks to the Kubernetes API.
            automount_service_account_token=False,
            opts=on_cluster,
        )

        # ConfigMap and Secret are auto-named and, for the Kubernetes provider, immutable:
        # new data makes a new object under a new name, which changes the pod template
        # that refers to it and rolls the pods; the old object goes once they are rolled.
        config = core.ConfigMap(
            f"{name}-config",
            metadata=meta.ObjectMetaArgs(namespace=namespace, labels=all_labels),
            data=spec.environment,
            opts=on_cluster,
        )
        volumes = [core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="64Mi"))]
        mounts = [core.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        if spec.api_key is not None:
            key = core.Secret(
                f"{name}-credentials",
                metadata=meta.ObjectMetaArgs(namespace=namespace, labels=all_labels),
                type="Opaque",
                string_data={API_KEY_FILE: spec.api_key.output()},
                opts=on_cluster,
            )
            # A file, not an environment variable: environments leak into crash
            # reports and `kubectl describe`; the file is readable by the app user only.
            volumes.append(
                core.VolumeArgs(
                    name="credentials",
                    secret=core.SecretVolumeSourceArgs(
                        secret_name=key.metadata.name,
                        default_mode=0o400,
                        items=[core.KeyToPathArgs(key=API_KEY_FILE, path=API_KEY_FILE)],
                    ),
                )
            )
            mounts.append(core.VolumeMountArgs(name="credentials", mount_path=API_KEY_DIR, read_only=True))

        container = core.ContainerArgs(
            name=app,
            image=spec.settings.image,
            image_pull_policy="Always",
            ports=[
                core.ContainerPortArgs(name="http", container_port=HTTP_PORT, protocol="TCP"),
                core.ContainerPortArgs(name="metrics", container_port=METRICS_PORT, protocol="TCP"),
            ],
            env_from=[core.EnvFromSourceArgs(config_map_ref=core.ConfigMapEnvSourceArgs(name=config.metadata.name))],
            resources=core.ResourceRequirementsArgs(
                requests={"cpu": resources.cpu_request, "memory": resources.memory_request},
                limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
            ),
            # Slow starts get a minute before liveness may restart them.
            startup_probe=_probe("/livez", period=2, failures=30),
            liveness_probe=_probe("/livez", period=10, failures=3),
            readiness_probe=_probe("/readyz", period=5, failures=2),
            # The gateway keeps sending to a terminating pod until it sees the endpoint
            # go; a short pause before SIGTERM lets it drain without errors.
            lifecycle=core.LifecycleArgs(pre_stop=core.LifecycleHandlerArgs(sleep=core.SleepActionArgs(seconds=5))),
            security_context=hardened_container(),
            volume_mounts=mounts,
        )

        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # No `replicas`: the autoscaler owns the count, and a value here would
                # reset it to the floor on every `pulumi up`.
                selector=selector,
                revision_history_limit=5,
                min_ready_seconds=5,
                progress_deadline_seconds=600,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    # Never below the serving count during a rollout.
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge="25%", max_unavailable=0),
                ),
                template=core.PodTemplateSpecArgs(
                    metadata=meta.ObjectMetaArgs(
                        labels=all_labels,
                        annotations={
                            "checksum/config": config_checksum(spec.environment),
                            "kubectl.kubernetes.io/default-container": app,
                        },
                    ),
                    spec=core.PodSpecArgs(
                        service_account_name=account.metadata.name,
                        automount_service_account_token=False,
                        enable_service_links=False,
                        termination_grace_period_seconds=30,
                        # The workers pool, whatever its size (a resize moves the pods over).
                        node_selector={POOL_LABEL: WORKERS},
                        image_pull_secrets=[core.LocalObjectReferenceArgs(name=pull_secret)] if pull_secret else None,
                        security_context=hardened_pod(),
                        # One pod per node before any node gets a second, and per
                        # rollout revision, so a surge does not pile onto one node.
                        topology_spread_constraints=[
                            core.TopologySpreadConstraintArgs(
                                max_skew=1,
                                topology_key="kubernetes.io/hostname",
                                when_unsatisfiable="DoNotSchedule",
                                label_selector=selector,
                                match_label_keys=["pod-template-hash"],
                            )
                        ],
                        containers=[container],
                        volumes=volumes,
                    ),
                ),
            ),
            opts=on_cluster,
        )

        self.service = core.Service(
            f"{name}-service",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            spec=core.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[
                    core.ServicePortArgs(name=port, port=number, target_port=port, protocol="TCP")
                    for port, number in (("http", SERVICE_PORT), ("metrics", METRICS_PORT))
                ],
            ),
            opts=on_cluster,
        )

        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-autoscaler",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self.deployment.metadata.name
                ),
                min_replicas=spec.settings.replicas,
                max_replicas=spec.settings.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=70),
                        ),
                    )
                ],
                # Scale in slowly: traffic comes back faster than pods start.
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(stabilization_window_seconds=300)
                ),
            ),
            # It reads CPU from the resource metrics API: metrics-server first.
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[cluster.metrics_server])),
        )

        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                # maxUnavailable rather than minAvailable: it scales with the autoscaler
                # and still lets a one-pod dev stack drain its node.
                max_unavailable=1,
                selector=selector,
                # A pod that never got ready must not block a node drain.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=on_cluster,
        )

        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata=meta.ObjectMetaArgs(name=app, namespace=namespace, labels=all_labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=selector,
                policy_types=["Ingress", "Egress"],
                ingress=spec.ingress,
                egress=spec.egress,
            ),
            opts=on_cluster,
        )

        self.register_outputs(
            {
                "deployment": self.deployment.metadata.name,
                "service": self.service.metadata.name,
                "image": spec.settings.image,
            }
        )


def _probe(path: str, period: int, failures: int) -> core.ProbeArgs:
    return core.ProbeArgs(
        http_get=core.HTTPGetActionArgs(path=path, port="http"),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=2,
    )
