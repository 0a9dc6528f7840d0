"""Metrics and alerting on one regional cluster.

kube-prometheus-stack (Prometheus, Alertmanager, node and kube-state metrics) scraping the
catalog workloads and the Envoy proxies, the rules of components/alerting.py, and an
Alertmanager that routes to the stack's alert destinations. Every cluster keeps its own
metrics and alerts on its own, so losing one region (or the hub) silences nothing else.
The hub cluster also runs the stack's one Grafana (components/pane.py gives it every
cluster's Prometheus); the others expose their Prometheus on an internal DigitalOcean load
balancer that admits only the hub's networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as kubernetes
import yaml

from components.alerting import alertmanager_config, cluster_rule_groups
from components.cluster import DO_LOAD_BALANCER, POOL_LABEL, SYSTEM, WORKERS
from components.namespaces import GATEWAY_NAMESPACE, MONITORING_NAMESPACE, PROXY_POD_LABELS, declare_namespace
from components.settings.stack import StackSettings

if TYPE_CHECKING:
    from components.catalog import Catalog
    from components.catalog_app import CatalogApp
    from components.cluster import RegionalCluster

meta = kubernetes.meta.v1
core = kubernetes.core.v1


PROMETHEUS_STACK_CHART = "kube-prometheus-stack"
PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
PROMETHEUS_STACK_VERSION = "88.6.1"
RELEASE_NAME = "kube-prometheus-stack"

MONITORING_API = "monitoring.coreos.com/v1"
PROMETHEUS_PORT = 9090
# What the chart names the Prometheus custom resource and its Service (release name + suffix).
PROMETHEUS_NAME = f"{RELEASE_NAME}-prometheus"
PROMETHEUS_IN_CLUSTER_URL = f"http://{PROMETHEUS_NAME}.{MONITORING_NAMESPACE}.svc:{PROMETHEUS_PORT}"
# Labels the Prometheus operator puts on the pods of that Prometheus.
PROMETHEUS_SERVER_LABELS = {"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": PROMETHEUS_NAME}
# The Secret Alertmanager reads its configuration from (key alertmanager.yaml): written by
# the program, so the chart's default configuration (which routes everything to a "null"
# receiver) never applies.
ALERTMANAGER_SECRET = "alertmanager-marketplace"
ALERTMANAGER_KEY = "alertmanager.yaml"
RULES_NAME = "marketplace-rules"
# Envoy names each route's upstream cluster httproute/<namespace>/<route>/rule/<n>, and the
# catalog's routes are named after the app's Service (components/gateway.py http_route): at
# scrape time every series of a catalog route gets the app's name as label `app`, what the
# rules and dashboards group by.
ROUTE_APP_RELABELING = {
    "sourceLabels": ["envoy_cluster_name"],
    "regex": "httproute/catalog/([^/]+)/rule/.+",
    "targetLabel": "app",
    "replacement": "$1",
    "action": "replace",
}
# Replaced by the program's own, which carry the region and link the logs
# (data/rules/catalog.rules.yaml); the chart's would page twice for the same pod.
REPLACED_DEFAULT_ALERTS = ("KubePodCrashLooping", "KubeHpaMaxedOut")
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"

# How long each kind keeps metrics, and the volume that holds them.
_RETENTION = {"production": ("15d", "50Gi"), "staging": ("7d", "20Gi"), "dev": ("2d", "10Gi")}


def prometheus_stack_values(
    settings: StackSettings, region: str, cluster: str, *, hub: bool, admin_secret: pulumi.Input[str] | None
) -> dict[str, Any]:
    retention, volume = _RETENTION[settings.kind]
    grafana: dict[str, Any] = {"enabled": False}
    if hub:
        grafana = {
            "enabled": True,
            "sidecar": {
                "dashboards": {"folderAnnotation": DASHBOARD_FOLDER_ANNOTATION, "provider": {"foldersFromFilesStructure": True}},
                # Every cluster's Prometheus is a data source of its own (components/pane.py),
                # this cluster's among them.
                "datasources": {"defaultDatasourceEnabled": False},
            },
        }
        if admin_secret is not None:
            grafana["admin"] = {"existingSecret": admin_secret, "userKey": "admin-user", "passwordKey": "admin-password"}
        # No password configured: the Grafana chart generates one into a Secret of its
        # own and keeps it across upgrades; nothing readable lands in the stack.
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
            },
            # Replaced by the program's own (REPLACED_DEFAULT_ALERTS).
            "disabled": dict.fromkeys(REPLACED_DEFAULT_ALERTS, True),
        },
        "prometheus": {
            "prometheusSpec": {
                # Select every ServiceMonitor, PodMonitor and rule in the cluster, not only
                # those labelled with this release's name.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "retention": retention,
                # On every alert this Prometheus sends: where it comes from.
                "externalLabels": {"region": region, "cluster": cluster, "stack": settings.stack},
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
        "alertmanager": {"alertmanagerSpec": {"useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET}},
        "grafana": grafana,
        # The pool label of every node, for the node pools' NodePoolAtMaximum alerts.
        "kube-state-metrics": {"metricLabelsAllowlist": [f"nodes=[{POOL_LABEL}]"]},
    }


def autoscaled_pools(settings: StackSettings) -> dict[str, int]:
    """Each node pool the cluster autoscaler sizes (min below max), by the value of the pool
    label its nodes carry, with its maximum."""
    pools = {SYSTEM: settings.cluster.system_pool, WORKERS: settings.cluster.node_pool}
    return {name: pool.max_nodes for name, pool in pools.items() if pool.max_nodes > pool.min_nodes}


def internal_service_annotations(cluster_physical: str) -> dict[str, str]:
    """A DigitalOcean load balancer reachable only from inside the VPC network (and the VPCs
    peered with it), named after the cluster generation (`mkt-<stack>-<cluster>`): the cloud
    controller adopts an existing load balancer by name, so two clusters must never ask for
    one name (digitalocean-cloud-controller-manager docs/controllers/services/annotations.md)."""
    return {
        f"{DO_LOAD_BALANCER}name": f"{cluster_physical}-prometheus",
        f"{DO_LOAD_BALANCER}network": "INTERNAL",
        f"{DO_LOAD_BALANCER}size-unit": "1",
        f"{DO_LOAD_BALANCER}protocol": "tcp",
    }


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and the rules on one cluster; Grafana on the hub."""

    # Where the stack's Grafana reaches this cluster's Prometheus.
    prometheus_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        region: str,
        cluster_name: str,
        cluster: RegionalCluster,
        catalog: Catalog,
        hub: bool,
        hub_networks: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`hub`: this cluster runs the stack's Grafana; `hub_networks`: the ranges the hub's
        Grafana reaches the other clusters from."""
        super().__init__("marketplace:index:Monitoring", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        # Node exporter reads the node itself (host network, PID, paths): it cannot run under
        # the baseline or restricted profiles.
        namespace = declare_namespace(f"{name}-namespace", MONITORING_NAMESPACE, on_cluster, enforce="privileged")
        admin_secret = None
        password = settings.monitoring.grafana_admin_password
        if hub and password is not None:
            admin_secret = core.Secret(
                f"{name}-grafana-admin",
                metadata=meta.ObjectMetaArgs(namespace=namespace.metadata.name),
                type="Opaque",
                string_data={"admin-user": "admin", "admin-password": password.output()},
                opts=on_cluster,
            ).metadata.name

        self.alertmanager_config = self._alertmanager_secret(name, settings, namespace, on_cluster)
        self.prometheus = kubernetes.helm.v3.Release(
            f"{name}-prometheus",
            kubernetes.helm.v3.ReleaseArgs(
                name=RELEASE_NAME,
                chart=PROMETHEUS_STACK_CHART,
                version=PROMETHEUS_STACK_VERSION,
                repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=PROMETHEUS_STACK_REPO),
                namespace=namespace.metadata.name,
                cleanup_on_fail=True,
                max_history=10,
                timeout=900,
                values=prometheus_stack_values(settings, region, cluster_name, hub=hub, admin_secret=admin_secret),
            ),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.alertmanager_config])),
        )
        # The monitors' and rules' kinds come with the chart's CRDs.
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
                "podMetricsEndpoints": [
                    {
                        "port": "metrics",
                        "path": "/stats/prometheus",
                        "interval": "30s",
                        "metricRelabelings": [ROUTE_APP_RELABELING],
                    }
                ],
            },
            opts=after_chart,
        )
        self.rules = kubernetes.apiextensions.CustomResource(
            f"{name}-rules",
            api_version=MONITORING_API,
            kind="PrometheusRule",
            metadata=meta.ObjectMetaArgs(name=RULES_NAME, namespace=namespace.metadata.name),
            spec={"groups": cluster_rule_groups(region=region, cluster=cluster_name, pools=autoscaled_pools(settings))},
            opts=after_chart,
        )
        if hub:
            self.prometheus_url = pulumi.Output.from_input(PROMETHEUS_IN_CLUSTER_URL)
        else:
            self.regional_endpoint = core.Service(
                f"{name}-prometheus-internal",
                metadata=meta.ObjectMetaArgs(
                    name="prometheus-internal",
                    namespace=namespace.metadata.name,
                    annotations=internal_service_annotations(cluster.physical),
                ),
                spec=core.ServiceSpecArgs(
                    type="LoadBalancer",
                    selector=PROMETHEUS_SERVER_LABELS,
                    ports=[core.ServicePortArgs(name="http", port=PROMETHEUS_PORT, target_port=PROMETHEUS_PORT, protocol="TCP")],
                    load_balancer_source_ranges=list(hub_networks),
                ),
                opts=after_chart,
            )
            self.prometheus_url = self.regional_endpoint.status.apply(_load_balancer_url)
        self.register_outputs(
            {"prometheusRelease": self.prometheus.status.apply(lambda status: status.name), "prometheusUrl": self.prometheus_url}
        )

    @staticmethod
    def _alertmanager_secret(
        name: str, settings: StackSettings, namespace: core.Namespace, opts: pulumi.ResourceOptions
    ) -> core.Secret:
        alerting = settings.alerting

        def render(values: list[Any]) -> str:
            return yaml.safe_dump(alertmanager_config(alerting, values[0], values[1]), sort_keys=False)

        # The webhook URL and the SMTP password arrive as secret Outputs: the rendered
        # configuration that holds them is secret as a whole.
        rendered: pulumi.Output[str] = pulumi.Output.all(
            alerting.webhook_url.output() if alerting.webhook_url else None,
            alerting.smtp_password.output() if alerting.smtp_password else None,
        ).apply(render)
        return core.Secret(
            f"{name}-alertmanager-config",
            metadata=meta.ObjectMetaArgs(name=ALERTMANAGER_SECRET, namespace=namespace.metadata.name),
            type="Opaque",
            string_data={ALERTMANAGER_KEY: rendered},
            opts=opts,
        )


def _load_balancer_url(status: Any) -> str:
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    if not ingress:
        raise ValueError("the internal load balancer reports no address: is it active?")
    return f"http://{ingress[0].ip}:{PROMETHEUS_PORT}"


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
