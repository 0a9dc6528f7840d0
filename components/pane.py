"""The stack's one pane: the Grafana on the hub cluster, with every cluster's Prometheus as a
data source of its own and the dashboards of data/dashboards, and the private network it
reaches the other regions over.

Design (docs/observability.md): metrics stay where they are made. Each cluster's Prometheus
keeps its own region's series and evaluates its own alerts; the hub's Grafana queries each
of them directly (a data source per cluster, `prometheus-<cluster>`) and shows them side by
side (panels repeated per data source) and together (one query fanned out to every
selected data source). The hub's VPC is peered with every other region's VPC, and each
other cluster's Prometheus answers on an internal load balancer that admits only the hub's
networks. A region that is down only blanks its own panels; the hub being down takes the
pane (not the alerts) away until `observabilityRegion` names another region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes
import yaml

from components.cluster import ClusterSpec
from components.monitoring import DASHBOARD_FOLDER_ANNOTATION
from components.namespaces import MONITORING_NAMESPACE
from components.network import MAX_GENERATIONS, cluster_network
from components.regions import REGIONS
from components.settings.stack import StackSettings

if TYPE_CHECKING:
    from components.cluster import RegionalCluster
    from components.monitoring import Monitoring

meta = kubernetes.meta.v1
core = kubernetes.core.v1

DASHBOARDS_DIR = Path(__file__).resolve().parent.parent / "data" / "dashboards"
DASHBOARD_FOLDER = "Marketplace"
DATASOURCE_PREFIX = "prometheus-"
# Labels the Grafana chart's sidecars look for (kube-prometheus-stack values
# grafana.sidecar.datasources.label / dashboards.label).
DATASOURCE_LABEL = {"grafana_datasource": "1"}
DASHBOARD_LABEL = {"grafana_dashboard": "1"}


def hub_cluster(settings: StackSettings, specs: Mapping[str, ClusterSpec]) -> str:
    """The cluster that runs Grafana: the hub region's first generation (during an upgrade
    Grafana stays on the old one until it is retired, then moves; it keeps no state)."""
    return next(name for name, spec in specs.items() if spec.region == settings.monitoring.hub_region)


def hub_networks(settings: StackSettings) -> tuple[str, ...]:
    """Where Grafana's queries come from: the hub region's VPC (nodes, and pods whose
    traffic leaves through their node) and the pod ranges of both cluster generations the
    region can run (VPC-native pods keep their own address). Both, whether or not they run:
    an upgrade of the hub region then changes no other region's load balancer."""
    slot = REGIONS[settings.monitoring.hub_region].slot
    generations = [cluster_network(settings.network_block, slot, index) for index in range(MAX_GENERATIONS)]
    return (generations[0].vpc, *(network.pods for network in generations))


def datasource_name(cluster: str) -> str:
    return f"{DATASOURCE_PREFIX}{cluster}"


def datasources(urls: Mapping[str, str], hub: str) -> dict[str, Any]:
    """Grafana's data source provisioning file: one Prometheus per cluster, the hub's the
    default. Nothing secret: the regional endpoints are reachable only from the hub."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": datasource_name(cluster),
                "uid": datasource_name(cluster),
                "type": "prometheus",
                "access": "proxy",
                "url": urls[cluster],
                "isDefault": cluster == hub,
                "editable": False,
                # A region further away answers in a few hundred milliseconds, one that is
                # down must not hold a panel for long.
                "jsonData": {"timeInterval": "30s", "httpMethod": "POST", "timeout": 30},
            }
            for cluster in sorted(urls)
        ],
    }


def dashboards() -> dict[str, str]:
    """Dashboard file name -> its JSON text, as in the repository. Each must parse: the
    program reads them before it declares anything, so a bad file stops it (a RunError: the
    message alone) with nothing half-built."""
    found = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise pulumi.RunError(f"{path.relative_to(DASHBOARDS_DIR.parent.parent)} is not valid JSON: {error}") from None
        found[path.name] = text
    return found


class MetricsPane(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        hub: str,
        hub_cluster: RegionalCluster,
        hub_monitoring: Monitoring,
        vpcs: Mapping[str, digitalocean.Vpc],
        prometheus_urls: Mapping[str, pulumi.Input[str]],
        dashboards: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`prometheus_urls`: cluster name -> where the hub reaches its Prometheus;
        `dashboards`: what dashboards() read."""
        super().__init__("marketplace:index:MetricsPane", name, None, opts)
        hub_region = settings.monitoring.hub_region
        # Hub and spoke: Grafana talks to every region, the regions never to each other.
        self.peerings = {
            region: digitalocean.VpcPeering(
                f"{name}-{region}-peering",
                name=f"{settings.name_prefix}-{hub_region}-{region}",
                vpc_ids=[vpcs[hub_region].id, vpcs[region].id],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for region in settings.regions
            if region != hub_region
        }
        on_hub = pulumi.ResourceOptions(parent=self, provider=hub_cluster.provider, depends_on=[hub_monitoring.prometheus])
        urls = dict(prometheus_urls)
        # Named after the hub cluster: its objects are that cluster's (and region's).
        self.datasources = core.ConfigMap(
            f"{hub}-grafana-datasources",
            metadata=meta.ObjectMetaArgs(name="marketplace-datasources", namespace=MONITORING_NAMESPACE, labels=DATASOURCE_LABEL),
            data={
                "marketplace-datasources.yaml": pulumi.Output.all(*urls.values()).apply(
                    lambda resolved: yaml.safe_dump(datasources(dict(zip(urls, resolved, strict=True)), hub), sort_keys=False)
                )
            },
            opts=on_hub,
        )
        # One ConfigMap, every file a key of it (the sidecar loads each key as a dashboard);
        # far below a ConfigMap's 1 MiB.
        self.dashboards = core.ConfigMap(
            f"{hub}-dashboards",
            metadata=meta.ObjectMetaArgs(
                name="marketplace-dashboards",
                namespace=MONITORING_NAMESPACE,
                labels=DASHBOARD_LABEL,
                annotations={DASHBOARD_FOLDER_ANNOTATION: DASHBOARD_FOLDER},
            ),
            data=dict(dashboards),
            opts=on_hub,
        )
        self.register_outputs({"grafanaCluster": hub, "dataSources": sorted(datasource_name(c) for c in urls)})
