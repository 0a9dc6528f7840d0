"""Monitoring and log shipping on one regional cluster.

Metrics: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node and kube-state
metrics) scraping the catalog workloads and the Envoy proxies. Logs: fluent-bit shipping
every container's log to Elasticsearch, when the stack names an endpoint. Each region
keeps its own metrics; every series and log record carries the region and the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as kubernetes

from components.namespaces import GATEWAY_NAMESPACE, LOGGING_NAMESPACE, MONITORING_NAMESPACE, PROXY_POD_LABELS
from components.settings.monitoring import LogShipping
from components.settings.stack import StackSettings

if TYPE_CHECKING:
    from components.catalog import Catalog, CatalogApp
    from components.cluster import RegionalCluster

meta = kubernetes.meta.v1
core = kubernetes.core.v1


PROMETHEUS_STACK_CHART = "kube-prometheus-stack"
PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
PROMETHEUS_STACK_VERSION = "88.6.1"
FLUENT_BIT_CHART = "fluent-bit"
FLUENT_BIT_REPO = "https://fluent.github.io/helm-charts"
FLUENT_BIT_VERSION = "0.58.1"

MONITORING_API = "monitoring.coreos.com/v1"

# How long each kind keeps metrics, and the volume that holds them.
_RETENTION = {"production": ("15d", "50Gi"), "staging": ("7d", "20Gi"), "dev": ("2d", "10Gi")}


def prometheus_stack_values(settings: StackSettings, region: str, admin_secret: pulumi.Input[str] | None) -> dict[str, Any]:
    retention, volume = _RETENTION[settings.kind]
    return {
        # DOKS runs etcd, the scheduler and the controller manager itself, out of reach: their
        # scrapes would fail and their default alerts always fire (DigitalOcean's starter kit
        # prom-stack values: "managed by DOKS"). The chart gates each one's rules on its flag.
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "defaultRules": {
            "rules": {
                "etcd": False,
                "kubeSchedulerAlerting": False,
                "kubeSchedulerRecording": False,
                "kubeControllerManager": False,
            }
        },
        "prometheus": {
            "prometheusSpec": {
                # Select every ServiceMonitor, PodMonitor and rule in the cluster, not only
                # those labelled with this release's name.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "retention": retention,
                "externalLabels": {"region": region, "stack": settings.stack},
                "resources": {
                    "requests": {"cpu": "200m", "memory": "1Gi"},
                    "limits": {"memory": "2Gi"},
                },
                # Metrics survive a pod move; DigitalOcean volumes stay in the region.
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": "do-block-storage",
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": volume}},
                        }
                    }
                },
            }
        },
        "grafana": {
            "admin": {
                "existingSecret": admin_secret,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            }
        }
        if admin_secret is not None
        # No password configured: the Grafana chart generates one into a Secret of its
        # own and keeps it across upgrades; nothing readable lands in the stack.
        else {},
    }


def _section(kind: str, entries: Sequence[tuple[str, object]]) -> str:
    """One section of fluent-bit's classic configuration format. The format has no quoting:
    a value is the rest of its line, so a value with a line break in it would write entries
    or whole sections of its own. Such a value is refused, never written."""
    for key, value in entries:
        if not f"{key}{value}".isprintable():
            raise ValueError(f"fluent-bit [{kind}] {key}: {value!r} is not one line of printable text")
    return "\n".join([f"[{kind}]", *(f"    {key} {value}" for key, value in entries)]) + "\n"


def fluent_bit_values(settings: StackSettings, region: str, target: LogShipping) -> dict[str, Any]:
    tls = "On" if target.tls else "Off"
    kubernetes_metadata = [
        ("Name", "kubernetes"), ("Match", "kube.*"), ("Merge_Log", "On"), ("Keep_Log", "Off"),
        ("K8S-Logging.Parser", "On"), ("K8S-Logging.Exclude", "On"),
    ]  # fmt: skip
    # Five regions ship to one index: every record says where it came from.
    origin = [
        ("Name", "modify"), ("Match", "*"), ("Add", f"region {region}"), ("Add", f"stack {settings.stack}"),
    ]  # fmt: skip
    elasticsearch = [
        ("Name", "es"), ("Match", "kube.*"), ("Host", target.host), ("Port", target.port),
        ("Index", target.index), ("Suppress_Type_Name", "On"), ("Replace_Dots", "On"),
        ("Retry_Limit", 10), ("tls", tls), ("tls.verify", tls),
    ]  # fmt: skip
    return {
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "config": {
            "filters": "\n".join([_section("FILTER", kubernetes_metadata), _section("FILTER", origin)]),
            "outputs": _section("OUTPUT", elasticsearch),
        },
    }


def _namespace(name: str, resource_name: str, opts: pulumi.ResourceOptions) -> core.Namespace:
    return core.Namespace(
        resource_name,
        metadata=meta.ObjectMetaArgs(
            name=name,
            # Node exporter and fluent-bit read the node itself (host network, PID,
            # paths): they cannot run under the baseline or restricted profiles.
            labels={"pod-security.kubernetes.io/enforce": "privileged"},
        ),
        opts=opts,
    )


class Monitoring(pulumi.ComponentResource):
    """Prometheus and Grafana (when the stack monitors) and fluent-bit (when it ships logs)."""

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        region: str,
        cluster: RegionalCluster,
        catalog: Catalog,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:Monitoring", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        monitoring = settings.monitoring
        outputs: dict[str, Any] = {}

        if monitoring.enabled:
            namespace = _namespace(MONITORING_NAMESPACE, f"{name}-namespace", on_cluster)
            admin_secret = None
            if monitoring.grafana_admin_password is not None:
                admin_secret = core.Secret(
                    f"{name}-grafana-admin",
                    metadata=meta.ObjectMetaArgs(namespace=namespace.metadata.name),
                    type="Opaque",
                    string_data={
                        "admin-user": "admin",
                        "admin-password": monitoring.grafana_admin_password.output(),
                    },
                    opts=on_cluster,
                ).metadata.name
            self.prometheus = kubernetes.helm.v3.Release(
                f"{name}-prometheus",
                kubernetes.helm.v3.ReleaseArgs(
                    name="kube-prometheus-stack",
                    chart=PROMETHEUS_STACK_CHART,
                    version=PROMETHEUS_STACK_VERSION,
                    repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_STACK_REPO),
                    namespace=namespace.metadata.name,
                    cleanup_on_fail=True,
                    max_history=10,
                    timeout=900,
                    values=prometheus_stack_values(settings, region, admin_secret),
                ),
                opts=on_cluster,
            )
            # The monitors' kinds come with the chart's CRDs.
            after_chart = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.prometheus]))
            self.monitors = [
                _service_monitor(f"{name}-{app.labels['app.kubernetes.io/name']}", app, catalog, after_chart)
                for app in (catalog.web, catalog.api)
            ]
            self.proxy_monitor = kubernetes.apiextensions.CustomResource(
                f"{name}-envoy-proxies",
                api_version=MONITORING_API,
                kind="PodMonitor",
                metadata=meta.ObjectMetaArgs(name="envoy-proxies", namespace=GATEWAY_NAMESPACE),
                spec={
                    "selector": {"matchLabels": PROXY_POD_LABELS},
                    "podMetricsEndpoints": [{"port": "metrics", "path": "/stats/prometheus", "interval": "30s"}],
                },
                opts=after_chart,
            )
            outputs["prometheusRelease"] = self.prometheus.status.apply(lambda status: status.name)

        if monitoring.log_shipping is not None:
            logging_namespace = _namespace(LOGGING_NAMESPACE, f"{name}-logging-namespace", on_cluster)
            self.log_shipper = kubernetes.helm.v3.Release(
                f"{name}-log-shipping",
                kubernetes.helm.v3.ReleaseArgs(
                    name="fluent-bit",
                    chart=FLUENT_BIT_CHART,
                    version=FLUENT_BIT_VERSION,
                    repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=FLUENT_BIT_REPO),
                    namespace=logging_namespace.metadata.name,
                    cleanup_on_fail=True,
                    max_history=10,
                    values=fluent_bit_values(settings, region, monitoring.log_shipping),
                ),
                opts=on_cluster,
            )
            outputs["logShipping"] = f"{monitoring.log_shipping.host}:{monitoring.log_shipping.port}"

        self.register_outputs(outputs)


def _service_monitor(
    resource_name: str, app: CatalogApp, catalog: Catalog, opts: pulumi.ResourceOptions
) -> kubernetes.apiextensions.CustomResource:
    return kubernetes.apiextensions.CustomResource(
        resource_name,
        api_version=MONITORING_API,
        kind="ServiceMonitor",
        metadata=meta.ObjectMetaArgs(name=app.labels["app.kubernetes.io/name"], namespace=catalog.namespace.metadata.name),
        spec={
            "selector": {"matchLabels": app.labels},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
        opts=opts,
    )
