"""Regional clusters: per region a VPC; per cluster generation a VPC-native DOKS cluster with a
fixed system pool, a workers pool, metrics-server, and its Kubernetes provider."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes

from components.kubernetes_versions import minor_of
from components.network import ClusterNetwork, cluster_network, vpc_range
from components.regions import REGIONS
from components.settings.cluster import NodePool
from components.settings.stack import StackSettings

# metrics-server serves the resource metrics API the HorizontalPodAutoscalers read. DOKS
# ships none (DigitalOcean's autoscaling tutorial and reference architectures install it),
# and kube-prometheus-stack does not serve metrics.k8s.io. Chart 3.13.1 is metrics-server
# 0.8.1, which supports Kubernetes 1.31+ (kubernetes-sigs/metrics-server README matrix).
METRICS_SERVER_CHART = "metrics-server"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_VERSION = "3.13.1"

# The label the catalog's pods select: they run on the workers pool, whatever its size.
POOL_LABEL = "marketplace/pool"
WORKERS = "workers"
SYSTEM = "system"

# The prefix of the annotations DOKS's cloud controller reads on a LoadBalancer Service
# (digitalocean-cloud-controller-manager docs/controllers/services/annotations.md).
DO_LOAD_BALANCER = "service.beta.kubernetes.io/do-loadbalancer-"


def offered_kubernetes_versions() -> tuple[str, ...]:
    """The DOKS versions DigitalOcean offers today (one invoke per deployment)."""
    return tuple(digitalocean.get_kubernetes_versions().valid_versions)


def unoffered_versions(settings: StackSettings, offered: Sequence[str]) -> tuple[str, ...]:
    """A warning per pinned version DigitalOcean no longer offers. Clusters already on it keep
    running it (versions move only through the stack file), but a new generation on it would
    be refused at creation."""
    warnings = []
    pinned = sorted({g.version for members in settings.generations.values() for g in members})
    for version in pinned:
        if version in offered:
            continue
        same_minor = [v for v in offered if minor_of(v) == minor_of(version)]
        instead = f"; offered for {minor_of(version)}: {', '.join(same_minor)}" if same_minor else ""
        warnings.append(
            f"stack '{settings.stack}': DigitalOcean does not offer Kubernetes {version} today{instead}: clusters on it "
            "keep running it, a new generation needs an offered version (ops upgrade --to)"
        )
    return tuple(warnings)


def kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str, token: str) -> str:
    """A kubeconfig that authenticates with a DigitalOcean API token.

    The kubeconfig DOKS returns embeds a token that expires after 7 days, so a provider
    built on it breaks on the first `pulumi up` a week after a deploy. DOKS accepts
    DigitalOcean API tokens as bearer tokens; this one lives as long as the token the
    program is configured with, and rotates with it (see the README)."""
    user = f"{cluster_name}-token"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_certificate}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
            "current-context": cluster_name,
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class ClusterSpec:
    """What differs between two clusters of one stack."""

    region: str
    generation: str
    # Exact DOKS version slug, as the stack file pins it.
    version: str
    # Droplet size of the workers pool.
    node_size: str
    network: ClusterNetwork
    # The generation's share of its region's traffic (see components/edge.py Origin).
    weight: float
    # Production clusters are protected until a reviewed step lifts it (ops upgrade retire).
    protect: bool


def cluster_name(region: str, generation: str) -> str:
    """Logical name of a region's cluster generation. `blue`, the generation every region
    starts with, carries the plain region slug, so a region that never upgrades, or that
    declares its first generations, renames nothing. Every account-unique physical name of
    a cluster (its own, its load balancer's) is built from this name, never from the region
    alone: blue and green of one region must never ask for the same name."""
    return region if generation == "blue" else f"{region}-{generation}"


def physical_name(settings: StackSettings, name: str) -> str:
    """The account-unique name of a cluster generation's things: `mkt-<stack>-<cluster>`."""
    return f"{settings.name_prefix}-{name}"


class RegionVpc(pulumi.ComponentResource):
    """A region's private network. It outlives cluster generations: blue and green both
    run in it during an upgrade, and removing either leaves it in place."""

    vpc: digitalocean.Vpc

    def __init__(self, region: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:RegionVpc", region, None, opts)
        self.vpc = digitalocean.Vpc(
            f"{region}-vpc",
            name=f"{settings.name_prefix}-{region}",
            region=region,
            ip_range=vpc_range(settings.network_block, REGIONS[region].slot),
            description=f"Marketplace {settings.stack} in {REGIONS[region].city}",
            opts=pulumi.ResourceOptions(
                parent=self,
                # A new VPC beside the old one would collide on both its name and its range
                # (both unique in an account, openapi vpcs/models/vpc.yml): the old one goes
                # first, which its clusters (vpc_uuid forces their replacement) precede.
                delete_before_replace=True,
                # DigitalOcean removes a cluster asynchronously and refuses to delete a VPC
                # that still has members ("409 Can not delete VPC with members"); the provider
                # retries that for its default 2 minutes only (terraform-provider-digitalocean
                # vpc/resource_vpc.go; #1368). A cluster's removal takes several.
                custom_timeouts=pulumi.CustomTimeouts(delete="30m"),
            ),
        )
        self.register_outputs({"vpcId": self.vpc.id})


@dataclass(frozen=True)
class _Scaling:
    """Autoscaled between min and max; a pool whose min and max agree gets a fixed count."""

    auto_scale: bool
    min_nodes: int | None
    max_nodes: int | None
    node_count: int | None

    @classmethod
    def of(cls, pool: NodePool) -> _Scaling:
        if pool.max_nodes > pool.min_nodes:
            return cls(True, pool.min_nodes, pool.max_nodes, None)
        return cls(False, None, None, pool.min_nodes)


class RegionalCluster(pulumi.ComponentResource):
    """One DOKS cluster in its region's VPC: a fixed system pool (the cluster's default pool),
    a workers pool of the generation's size, metrics-server, and an explicit Kubernetes
    provider for it.

    Why two pools: the default pool's size is part of the cluster (terraform-provider-digitalocean
    kubernetes.go: size ForceNew), so a new size there is a new cluster. The workers pool is a
    resource of its own whose name carries its size: a new size plans a new pool beside the old
    one, created before the old one is drained and deleted, and the cluster stays. DigitalOcean
    documents the same: "To resize DOKS nodes, create a node pool of the desired size, and once
    it is [ready] ... delete the original" (docs.digitalocean.com/products/kubernetes/details/limits)."""

    cluster: digitalocean.KubernetesCluster
    workers: digitalocean.KubernetesNodePool
    provider: kubernetes.Provider
    metrics_server: kubernetes.helm.v3.Release
    kubeconfig: pulumi.Output[str]
    # `mkt-<stack>-<cluster>`: the stem of every account-unique name of this cluster's things.
    physical: str

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        spec: ClusterSpec,
        vpc: digitalocean.Vpc,
        *,
        registry: pulumi.Resource | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:RegionalCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        physical = self.physical = physical_name(settings, name)
        system, workers = _Scaling.of(settings.cluster.system_pool), _Scaling.of(settings.cluster.node_pool)
        tags = [*settings.tags, f"{settings.project}-region-{spec.region}", f"{settings.project}-generation-{spec.generation}"]

        self.cluster = digitalocean.KubernetesCluster(
            f"{name}-doks",
            name=physical,
            region=spec.region,
            version=spec.version,
            vpc_uuid=vpc.id,
            # VPC-native networking (both subnets set at creation) is what DOKS's own
            # Gateway API support needs, and it cannot be switched on later.
            cluster_subnet=spec.network.pods,
            service_subnet=spec.network.services,
            # Explicit: from DOKS 1.36 the API defaults to an HA control plane (a paid one
            # that cannot be turned off again, openapi kubernetes/models/cluster.yml `ha`).
            ha=settings.cluster.ha_control_plane,
            # Versions move only through the stack file: no patch upgrade ever happens on its
            # own. With auto_upgrade off the maintenance window schedules no upgrade of ours
            # (the provider: "auto_upgrade must be set to true for this to have an effect");
            # DigitalOcean's docs say the cluster's upgrade window still sets when the upgrades
            # it forces run (a minor past its end of life moves to the next one,
            # docs.digitalocean.com/products/kubernetes/how-to/upgrade-cluster).
            auto_upgrade=False,
            surge_upgrade=settings.cluster.surge_upgrade,
            maintenance_policy=digitalocean.KubernetesClusterMaintenancePolicyArgs(
                day=settings.cluster.maintenance.day,
                start_time=settings.cluster.maintenance.start_time,
            ),
            control_plane_firewall=digitalocean.KubernetesClusterControlPlaneFirewallArgs(
                enabled=True,
                allowed_addresses=list(settings.cluster.control_plane_allow_list),
            ),
            # Fixed per stack kind, never from config: see the class docstring.
            node_pool=digitalocean.KubernetesClusterNodePoolArgs(
                name=f"{physical}-system",
                size=settings.cluster.system_pool.size,
                auto_scale=system.auto_scale,
                min_nodes=system.min_nodes,
                max_nodes=system.max_nodes,
                node_count=system.node_count,
                labels={POOL_LABEL: SYSTEM},
                tags=tags,
            ),
            # Pull access to the account's registry (private); it must exist first.
            registry_integration=True,
            # Load balancers and volumes the cluster made go with it, so removing a
            # region or a cluster generation leaves nothing billed behind.
            destroy_all_associated_resources=True,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=spec.protect,
                depends_on=[registry] if registry else None,
                ignore_changes=[
                    # The autoscaler owns the node count.
                    "nodePool.nodeCount",
                    # A cluster keeps the version it was created with as far as the program
                    # is concerned: upgrades are new generations. When DigitalOcean
                    # force-upgrades an ended minor, a refresh sees a live version above the
                    # stack file's, which the provider would plan as a replacement
                    # (resource_kubernetes_cluster.go: ForceNewIfChange on a lower version).
                    "version",
                ],
            ),
        )

        self.workers = digitalocean.KubernetesNodePool(
            f"{name}-workers",
            digitalocean.KubernetesNodePoolArgs(
                cluster_id=self.cluster.id,
                # The size in the name: a new size is a new pool under a new name, created
                # before the old one goes (no two pools of one cluster ever share a name).
                name=f"{physical}-{spec.node_size}",
                size=spec.node_size,
                auto_scale=workers.auto_scale,
                min_nodes=workers.min_nodes,
                max_nodes=workers.max_nodes,
                node_count=workers.node_count,
                labels={POOL_LABEL: WORKERS},
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["nodeCount"]),
        )

        ca_certificate = self.cluster.kube_configs.apply(lambda configs: configs[0].cluster_ca_certificate or "")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, ca_certificate, settings.kubernetes_api_token.output()).apply(
                lambda parts: kubeconfig(physical, parts[0], parts[1], parts[2])
            )
        )

        self.provider = kubernetes.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # When a cluster is torn down with its workloads, objects on an unreachable
            # cluster leave the state instead of failing the update.
            delete_unreachable=True,
            enable_server_side_apply=True,
            opts=child,
        )

        high_availability = settings.kind != "dev"
        self.metrics_server = kubernetes.helm.v3.Release(
            f"{name}-metrics-server",
            kubernetes.helm.v3.ReleaseArgs(
                name="metrics-server",
                chart=METRICS_SERVER_CHART,
                version=METRICS_SERVER_VERSION,
                repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=METRICS_SERVER_REPO),
                namespace="kube-system",
                cleanup_on_fail=True,
                max_history=10,
                # The values DigitalOcean's own installs use (marketplace-kubernetes
                # stacks/metrics-server/values.yml): two replicas behind the APIService.
                values={
                    "replicas": 2 if high_availability else 1,
                    "apiService": {"create": True},
                    "podDisruptionBudget": {"enabled": high_availability, "minAvailable": 1},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )

        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "clusterUrn": self.cluster.cluster_urn,
                "endpoint": self.cluster.endpoint,
                "version": self.cluster.version,
                "kubeconfig": self.kubeconfig,
            }
        )


def cluster_specs(settings: StackSettings) -> dict[str, ClusterSpec]:
    """Every cluster of the stack by logical name: each region's generations."""
    return {
        cluster_name(region, generation.name): ClusterSpec(
            region=region,
            generation=generation.name,
            version=generation.version,
            node_size=generation.node_size,
            network=cluster_network(settings.network_block, REGIONS[region].slot, generation.index),
            weight=generation.weight,
            protect=settings.cluster.protect and generation.protect,
        )
        for region in settings.regions
        for generation in settings.generations[region]
    }


def serving_clusters(specs: Mapping[str, ClusterSpec]) -> dict[str, str]:
    """Region -> the cluster that serves it: the generation with the largest share of its
    traffic, the first declared on a tie (the one that was there). Stack outputs are keyed
    by region through this, so that `clusters.nyc3` names nyc3's cluster whichever
    generation it is, before and after an upgrade."""
    serving: dict[str, str] = {}
    for name, spec in specs.items():
        if spec.region not in serving or spec.weight > specs[serving[spec.region]].weight:
            serving[spec.region] = name
    return serving


def generations_by_region(specs: Mapping[str, ClusterSpec]) -> dict[str, dict[str, ClusterSpec]]:
    """Region -> its cluster generations by logical name, both in the order declared (the
    regions' order, then each region's generations': cluster_specs keeps it)."""
    regions: dict[str, dict[str, ClusterSpec]] = {}
    for name, spec in specs.items():
        regions.setdefault(spec.region, {})[name] = spec
    return regions
