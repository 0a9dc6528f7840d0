"""The marketplace program: composition only.

stack file -> settings -> per region: network, cluster generations, what runs on each
cluster -> the edge in front of all regions.

The `zone` stack is the exception: it holds the zone-wide Cloudflare settings every other
stack relies on, and nothing else, so the pipeline can deploy it before any of them.
"""

import pulumi

from components.assets import Assets
from components.catalog import Catalog
from components.cluster import (
    RegionalCluster,
    RegionVpc,
    cluster_specs,
    generations_by_region,
    offered_kubernetes_versions,
    serving_clusters,
    unoffered_versions,
)
from components.edge import Edge, Origin, OriginCertificate, ZoneTls
from components.gateway import RegionalGateway, cloudflare_source_ranges
from components.logs import LogShipping, LogStore
from components.monitoring import Monitoring
from components.pane import MetricsPane, dashboards, hub_cluster, hub_networks
from components.platform_alerts import NodeAlerts, UptimeChecks
from components.project import StackProject
from components.registry import AccountRegistry
from components.settings import ZONE_STACK, load_settings, load_zone_settings

if pulumi.get_stack() == ZONE_STACK:
    zone = load_zone_settings()
    ZoneTls("zone-tls", zone.cloudflare_zone_id)
    pulumi.export("zone", zone.zone_name)
else:
    settings = load_settings()
    for warning in (*settings.warnings, *unoffered_versions(settings, offered_kubernetes_versions())):
        pulumi.log.warn(warning)
    specs = cluster_specs(settings)
    generations = generations_by_region(specs)
    # Read before anything is declared: a bad answer or file stops the program with nothing half-built.
    source_ranges = cloudflare_source_ranges()
    dashboard_files = dashboards() if settings.monitoring.enabled else {}

    # The account's container registry, declared by the one stack that owns it; every
    # cluster pulls from it.
    registry = AccountRegistry("account", settings) if settings.registry.declare else None

    # TLS comes before the gateways: they serve origin.origin_tls and accept only clients
    # signed by its client CA (Cloudflare's origin-pull CA).
    origin = OriginCertificate("origin", settings)

    # Regions: each a copy, keyed by region slug; a region runs one cluster generation, or
    # two while it upgrades. Every cluster runs the same gateway, catalog and monitoring.
    vpcs = {region: RegionVpc(region, settings) for region in settings.regions}
    clusters: dict[str, RegionalCluster] = {}
    gateways: dict[str, RegionalGateway] = {}
    monitors: dict[str, Monitoring] = {}
    # The hub runs the stack's one Grafana; the log store lives in its region.
    hub = hub_cluster(settings, specs)
    grafana_networks = hub_networks(settings)
    for name, spec in specs.items():
        cluster = clusters[name] = RegionalCluster(
            name, settings, spec, vpcs[spec.region].vpc, registry=registry.registry if registry else None
        )
        here = pulumi.ResourceOptions(parent=cluster)
        gateway = gateways[name] = RegionalGateway(
            f"{name}-gateway",
            settings,
            region=spec.region,
            cluster=cluster,
            tls=origin.origin_tls,
            source_ranges=source_ranges,
            opts=here,
        )
        catalog = Catalog(f"{name}-catalog", settings, region=spec.region, cluster=cluster, gateway=gateway, opts=here)
        if settings.monitoring.enabled:
            monitors[name] = Monitoring(
                f"{name}-monitoring",
                settings,
                region=spec.region,
                cluster_name=name,
                cluster=cluster,
                catalog=catalog,
                hub=name == hub,
                hub_networks=grafana_networks,
                opts=here,
            )

    # Observability across regions: one pane over every cluster's Prometheus, one log store
    # that every cluster ships to, and DigitalOcean's checks from outside.
    if monitors:
        MetricsPane(
            "pane",
            settings,
            hub=hub,
            hub_cluster=clusters[hub],
            hub_monitoring=monitors[hub],
            vpcs={region: vpc.vpc for region, vpc in vpcs.items()},
            prometheus_urls={name: monitor.prometheus_url for name, monitor in monitors.items()},
            dashboards=dashboard_files,
        )
    log_store = None
    if settings.monitoring.log_store.enabled:
        log_store = LogStore("logs", settings, vpc=vpcs[settings.monitoring.hub_region].vpc, clusters=clusters)
        for name, spec in specs.items():
            LogShipping(
                f"{name}-logs",
                settings,
                region=spec.region,
                cluster_name=name,
                cluster=clusters[name],
                store=log_store,
                hub=name == hub,
                opts=pulumi.ResourceOptions(parent=clusters[name]),
            )
    UptimeChecks("uptime", settings)
    NodeAlerts("node-alerts", settings, [c.cluster for c in clusters.values()])

    # The edge: each region's pool lists its generations' gateways, weighted as declared.
    origins = {
        region: [Origin(name, gateways[name].public_ip, spec.weight) for name, spec in own.items()]
        for region, own in generations.items()
    }
    edge = Edge("edge", settings, origins)

    # Shared by all regions.
    assets = Assets("assets", settings)
    StackProject(
        "stack",
        settings,
        [
            *(c.cluster.cluster_urn for c in clusters.values()),
            assets.bucket.bucket_urn,
            *([log_store.database.cluster_urn] if log_store else []),
        ],
    )

    # Keyed by region, the region's serving cluster whichever generation it is: scripts that
    # read clusters.nyc3 keep working through an upgrade. Every generation: `generations`.
    serving = serving_clusters(specs)
    pulumi.export("url", f"https://{settings.hostname}")
    pulumi.export("origins", {region: gateways[name].public_ip for region, name in serving.items()})
    pulumi.export("pools", edge.pool_ids)
    # The failover drill previews this monitor against the pools (docs/edge.md).
    pulumi.export("healthMonitor", edge.monitor.id if edge.monitor else None)
    pulumi.export("originCertificateExpiresOn", origin.expires_on)
    # The versions the clusters run (after a refresh, what DigitalOcean reports).
    pulumi.export("kubernetesVersions", {region: clusters[name].cluster.version for region, name in serving.items()})
    pulumi.export("clusters", {region: clusters[name].cluster.id for region, name in serving.items()})
    pulumi.export("kubeconfigs", {region: clusters[name].kubeconfig for region, name in serving.items()})
    pulumi.export(
        "generations",
        {
            region: {
                spec.generation: {
                    "cluster": clusters[name].cluster.id,
                    "kubernetesVersion": clusters[name].cluster.version,
                    "origin": gateways[name].public_ip,
                    "weight": spec.weight,
                }
                for name, spec in own.items()
            }
            for region, own in generations.items()
        },
    )
    pulumi.export(
        "generationKubeconfigs",
        {
            region: {spec.generation: clusters[name].kubeconfig for name, spec in own.items()}
            for region, own in generations.items()
        },
    )
    pulumi.export("assetsBucket", assets.bucket.name)
    pulumi.export("assetsCdn", assets.cdn.endpoint)
    if monitors:
        pulumi.export("grafanaCluster", hub)
    if log_store:
        # OpenSearch Dashboards, for operators (the password is a secret output:
        # `pulumi stack output logDashboards --show-secrets`).
        pulumi.export(
            "logDashboards",
            {
                "url": log_store.database.ui_host.apply(lambda host: f"https://{host}"),
                "user": log_store.database.ui_user,
                # Secret already in the engine (the provider declares it so); marked here too,
                # so no engine or mock can show it.
                "password": pulumi.Output.secret(log_store.database.ui_password),
            },
        )
