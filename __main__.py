"""The marketplace program: composition only.

stack file -> settings -> per region: cluster, then what runs on it -> what spans regions.
"""

import pulumi

from components.assets import Assets
from components.catalog import Catalog
from components.cluster import RegionalCluster, cluster_spec, resolve_kubernetes_version
from components.gateway import RegionalGateway, cloudflare_source_ranges
from components.monitoring import Monitoring
from components.origin_tls import self_signed_origin_tls
from components.project import StackProject
from components.settings import load_settings

settings = load_settings()
version = resolve_kubernetes_version(settings)

# Regions: each a copy, keyed by region slug.
clusters = {
    region: RegionalCluster(region, settings, cluster_spec(settings, region, version))
    for region in settings.regions
}

# What runs on every cluster, identically. The origin certificate is shared by all regions.
# TEMPORARY: the edge's OriginCertificate("origin", settings).tls replaces this at merge.
origin_tls = self_signed_origin_tls("origin", settings)
source_ranges = cloudflare_source_ranges()
gateways: dict[str, RegionalGateway] = {}
for region, cluster in clusters.items():
    here = pulumi.ResourceOptions(parent=cluster)
    gateway = gateways[region] = RegionalGateway(
        f"{region}-gateway",
        settings,
        region=region,
        cluster=cluster,
        tls=origin_tls,
        source_ranges=source_ranges,
        opts=here,
    )
    catalog = Catalog(
        f"{region}-catalog", settings, region=region, cluster=cluster, gateway=gateway, opts=here
    )
    if settings.workloads.monitoring or settings.workloads.log_shipping:
        Monitoring(
            f"{region}-monitoring", settings, region=region, cluster=cluster, catalog=catalog, opts=here
        )

# Shared by all regions.
assets = Assets("assets", settings)
StackProject(
    "stack",
    settings,
    [*(c.cluster.cluster_urn for c in clusters.values()), assets.bucket.bucket_urn],
)

pulumi.export("url", f"https://{settings.hostname}")
pulumi.export("kubernetesVersion", version)
pulumi.export("clusters", {region: c.cluster.id for region, c in clusters.items()})
pulumi.export("gatewayAddresses", {region: g.public_ip for region, g in gateways.items()})
pulumi.export("kubeconfigs", {region: c.kubeconfig for region, c in clusters.items()})
pulumi.export("assetsBucket", assets.bucket.name)
pulumi.export("assetsCdn", assets.cdn.endpoint)
