"""The marketplace program: composition only.

stack file -> settings -> per region: network, cluster generations, what runs on them ->
what spans regions.
"""

import pulumi

from components.assets import Assets
from components.cluster import RegionalCluster, RegionVpc, cluster_specs, resolve_kubernetes_versions
from components.project import StackProject
from components.settings import load_settings

settings = load_settings()
versions = resolve_kubernetes_versions(settings)
specs = cluster_specs(settings, versions)

# Regions: each a copy, keyed by region slug; a region runs one cluster generation, or
# two while it upgrades.
vpcs = {region: RegionVpc(region, settings) for region in settings.regions}
clusters = {name: RegionalCluster(name, settings, spec, vpcs[spec.region].vpc) for name, spec in specs.items()}

# Shared by all regions.
assets = Assets("assets", settings)
StackProject(
    "stack",
    settings,
    [*(c.cluster.cluster_urn for c in clusters.values()), assets.bucket.bucket_urn],
)

pulumi.export("url", f"https://{settings.hostname}")
pulumi.export("kubernetesVersions", {name: spec.version for name, spec in specs.items()})
pulumi.export("clusters", {name: c.cluster.id for name, c in clusters.items()})
pulumi.export("kubeconfigs", {name: c.kubeconfig for name, c in clusters.items()})
pulumi.export("assetsBucket", assets.bucket.name)
pulumi.export("assetsCdn", assets.cdn.endpoint)
