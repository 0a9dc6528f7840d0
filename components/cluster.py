"""Regional clusters: per region a VPC, a VPC-native DOKS cluster and its Kubernetes provider."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes

from components.network import ClusterNetwork, cluster_network, vpc_range
from components.regions import REGIONS
from components.settings.reader import ConfigError
from components.settings.stack import StackSettings

_DOKS_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)-do\.(\d+)$")


def _version_key(version: str) -> tuple[int, ...]:
    match = _DOKS_VERSION.match(version)
    return tuple(int(part) for part in match.groups()) if match else (-1,)


def resolve_kubernetes_versions(settings: StackSettings) -> dict[str, str]:
    """The newest DOKS release of each minor the stack uses ("1.33" -> "1.33.5-do.0").

    One invoke for the whole stack. A minor DigitalOcean does not offer stops the program
    before any resource is declared."""
    offered = digitalocean.get_kubernetes_versions().valid_versions
    prefixes = {settings.cluster.version_prefix} | {
        generation.version_prefix for generations in settings.generations.values() for generation in generations
    }
    resolved = {}
    for prefix in sorted(prefixes):
        matching = sorted((v for v in offered if v.startswith(f"{prefix}.")), key=_version_key)
        if not matching:
            minors = sorted({".".join(v.split(".")[:2]) for v in offered}, key=lambda m: tuple(map(int, m.split("."))))
            raise ConfigError(
                settings.stack,
                "marketplace:kubernetesVersion",
                f"DigitalOcean offers no Kubernetes {prefix} release; offered minors: {', '.join(minors) or 'none'}",
            )
        resolved[prefix] = matching[-1]
    return resolved


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
    version: str
    node_size: str
    network: ClusterNetwork
    # The generation's share of its region's traffic (see components/edge.py Origin).
    weight: float


def cluster_name(region: str, generation: str) -> str:
    """Logical name of a region's cluster generation. `blue`, the generation every region
    starts with, carries the plain region slug, so a region that never upgrades, or that
    declares its first generations, renames nothing."""
    return region if generation == "blue" else f"{region}-{generation}"


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
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"vpcId": self.vpc.id})


class RegionalCluster(pulumi.ComponentResource):
    """One DOKS cluster in its region's VPC, and an explicit Kubernetes provider for it."""

    cluster: digitalocean.KubernetesCluster
    provider: kubernetes.Provider
    kubeconfig: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        spec: ClusterSpec,
        vpc: digitalocean.Vpc,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:RegionalCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        physical = f"{settings.name_prefix}-{name}"
        pool = settings.cluster.node_pool
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
            ha=settings.cluster.ha_control_plane,
            # Versions move only through the stack file (resolve_kubernetes_version).
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
            node_pool=digitalocean.KubernetesClusterNodePoolArgs(
                name=f"{physical}-default",
                size=spec.node_size,
                auto_scale=True,
                min_nodes=pool.min_nodes,
                max_nodes=pool.max_nodes,
                labels={"marketplace/pool": "default"},
                tags=tags,
            ),
            # Load balancers and volumes the cluster made go with it, so removing a
            # region or a cluster generation leaves nothing billed behind.
            destroy_all_associated_resources=True,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The autoscaler owns the node count.
                ignore_changes=["nodePool.nodeCount"],
            ),
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

        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "clusterUrn": self.cluster.cluster_urn,
                "endpoint": self.cluster.endpoint,
                "version": spec.version,
                "kubeconfig": self.kubeconfig,
            }
        )


def cluster_specs(settings: StackSettings, versions: dict[str, str]) -> dict[str, ClusterSpec]:
    """Every cluster of the stack by logical name: each region's generations."""
    return {
        cluster_name(region, generation.name): ClusterSpec(
            region=region,
            generation=generation.name,
            version=versions[generation.version_prefix],
            node_size=generation.node_size,
            network=cluster_network(settings.network_block, REGIONS[region].slot, generation.index),
            weight=generation.weight,
        )
        for region in settings.regions
        for generation in settings.generations[region]
    }
