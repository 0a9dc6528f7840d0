"""The marketplace program: composition only.

stack file -> settings -> per region: cluster, then what runs on it -> what spans regions.
"""

import pulumi

from components.assets import Assets
from components.cluster import RegionalCluster, cluster_spec, resolve_kubernetes_version
from components.edge import Edge, OriginCertificate, ZoneTls
from components.project import StackProject
from components.settings import load_settings

settings = load_settings()
version = resolve_kubernetes_version(settings)

# Regions: each a copy, keyed by region slug.
clusters = {
    region: RegionalCluster(region, settings, cluster_spec(settings, region, version)) for region in settings.regions
}

# TLS comes before the gateways: they serve origin.origin_tls and accept only clients
# signed by its client CA.
if settings.edge.manage_zone_settings:
    ZoneTls("zone-tls", settings)
origin = OriginCertificate("origin", settings)

# Stand-in origins (a cluster's own address serves its API, not the catalog):
# replaced by the gateway's public IP when the workloads land
origin_ips: dict[str, pulumi.Input[str]] = {region: c.cluster.ipv4_address for region, c in clusters.items()}

# Shared by all regions.
edge = Edge("edge", settings, origin_ips)
assets = Assets("assets", settings)
StackProject(
    "stack",
    settings,
    [*(c.cluster.cluster_urn for c in clusters.values()), assets.bucket.bucket_urn],
)

pulumi.export("url", f"https://{settings.hostname}")
pulumi.export("origins", origin_ips)
pulumi.export("pools", edge.pool_ids)
pulumi.export("originCertificateExpiresOn", origin.expires_on)
pulumi.export("kubernetesVersion", version)
pulumi.export("clusters", {region: c.cluster.id for region, c in clusters.items()})
pulumi.export("kubeconfigs", {region: c.kubeconfig for region, c in clusters.items()})
pulumi.export("assetsBucket", assets.bucket.name)
pulumi.export("assetsCdn", assets.cdn.endpoint)
