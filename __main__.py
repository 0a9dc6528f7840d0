"""The marketplace program: composition only.

stack file -> settings -> per region: network, cluster generations, what runs on them ->
the edge in front of all regions.
"""

import pulumi

from components.assets import Assets
from components.cluster import RegionalCluster, RegionVpc, cluster_specs, resolve_kubernetes_versions
from components.edge import Edge, Origin, OriginCertificate, ZoneTls
from components.project import StackProject
from components.settings import load_settings

settings = load_settings()
versions = resolve_kubernetes_versions(settings)
specs = cluster_specs(settings, versions)

# TLS comes before the gateways: they serve origin.origin_tls and accept only clients
# signed by its client CA.
if settings.edge.manage_zone_settings:
    ZoneTls("zone-tls", settings)
origin = OriginCertificate("origin", settings)

# Regions: each a copy, keyed by region slug; a region runs one cluster generation, or
# two while it upgrades.
vpcs = {region: RegionVpc(region, settings) for region in settings.regions}
clusters = {name: RegionalCluster(name, settings, spec, vpcs[spec.region].vpc) for name, spec in specs.items()}

# Stand-in origins (a cluster's own address serves its API, not the catalog):
# replaced by the gateway's public IP when the workloads land
origin_ips: dict[str, pulumi.Input[str]] = {name: c.cluster.ipv4_address for name, c in clusters.items()}
origins = {
    region: [Origin(name, origin_ips[name], spec.weight) for name, spec in specs.items() if spec.region == region]
    for region in settings.regions
}

# Shared by all regions.
edge = Edge("edge", settings, origins)
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
pulumi.export("kubernetesVersions", {name: spec.version for name, spec in specs.items()})
pulumi.export("clusters", {name: c.cluster.id for name, c in clusters.items()})
pulumi.export("kubeconfigs", {name: c.kubeconfig for name, c in clusters.items()})
pulumi.export("assetsBucket", assets.bucket.name)
pulumi.export("assetsCdn", assets.cdn.endpoint)
