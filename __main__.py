"""The marketplace program: composition only.

stack file -> settings -> per region: cluster, then what runs on it -> what spans regions.
"""

import pulumi

from components.assets import Assets
from components.cluster import RegionalCluster, cluster_spec, resolve_kubernetes_version
from components.project import StackProject
from components.settings import load_settings

settings = load_settings()
version = resolve_kubernetes_version(settings)

# Regions: each a copy, keyed by region slug.
clusters = {
    region: RegionalCluster(region, settings, cluster_spec(settings, region, version)) for region in settings.regions
}

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
pulumi.export("kubeconfigs", {region: c.kubeconfig for region, c in clusters.items()})
pulumi.export("assetsBucket", assets.bucket.name)
pulumi.export("assetsCdn", assets.cdn.endpoint)
