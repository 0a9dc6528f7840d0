"""The Cloudflare edge in front of the regional clusters.

Three components, created in this order by __main__.py:

- `ZoneTls`: the zone-wide TLS posture (SSL mode strict, authenticated origin pulls with
  Cloudflare's certificate, HTTPS only). Zone-wide means shared by every stack in the zone:
  the `zone` stack owns it alone, and the pipeline deploys it before any other, so a new
  zone presents the origin-pull certificate before the first gateway requires it.
- `OriginCertificate`: the stack's Cloudflare Origin CA certificate, handed to the gateways
  as an `OriginTls` before they exist.
- `Edge`: what steers visitors to a cluster. A load balancer (nearest-cluster steering
  across one pool per region, as the Cloudflare plan allows; a health monitor; failover) for
  production, staging and the shared dev stack; a proxied DNS record to the one cluster of a
  personal dev stack.

Cloudflare resources use the default provider (token from CLOUDFLARE_API_TOKEN); see
docs/edge.md for the permissions the token needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_tls as tls

from components.origin_tls import OriginTls
from components.regions import REGIONS
from components.settings.stack import StackSettings

ORIGIN_PULL_CA_FILE = Path(__file__).resolve().parent.parent / "data" / "cloudflare-origin-pull-ca.pem"

# Zone settings every catalog origin relies on. Cloudflare never resets a zone setting when
# the resource is deleted (the provider's delete is a no-op,
# terraform-provider-cloudflare internal/services/zone_setting/resource.go), so a stack that
# stops owning them leaves them as they are.
#
# Change only the values here, never a ZoneSetting's resource options alone (parent, alias,
# ignoreChanges, protect): an update whose inputs did not change sends an empty PATCH, which
# Cloudflare refuses with error 1007 (pulumi/pulumi-cloudflare#1319; docs/edge.md has the
# recovery).
ZONE_SETTINGS: dict[str, str] = {
    # The origin certificate is checked: an origin without a valid Origin CA (or public)
    # certificate for the hostname gets no traffic (526) instead of unauthenticated TLS.
    "ssl": "strict",
    # Global authenticated origin pulls: Cloudflare presents its origin-pull client
    # certificate, which the gateways require (OriginTls.client_ca_pem).
    "tls_client_auth": "on",
    # Gateways listen on 443 only: plain HTTP is redirected at the edge, never proxied.
    "always_use_https": "on",
    "min_tls_version": "1.2",
}

# The Origin CA signs an ECDSA key's request with its ECC CA ("origin-rsa" goes with RSA).
_REQUEST_TYPE = "origin-ecc"


def cloudflare_origin_pull_ca() -> str:
    """Cloudflare's origin-pull CA certificate (PEM), without the file's provenance header."""
    text = ORIGIN_PULL_CA_FILE.read_text(encoding="utf-8")
    begin = text.index("-----BEGIN CERTIFICATE-----")
    end_marker = "-----END CERTIFICATE-----"
    end = text.index(end_marker, begin) + len(end_marker)
    return text[begin:end] + "\n"


class ZoneTls(pulumi.ComponentResource):
    """The zone's TLS settings: strict origin validation and global authenticated origin
    pulls (every proxied request reaches an origin with Cloudflare's client certificate)."""

    settings: dict[str, cloudflare.ZoneSetting]
    zone_level_pulls: cloudflare.AuthenticatedOriginPullsSettings

    def __init__(self, name: str, zone_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:ZoneTls", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.settings = {
            setting_id: cloudflare.ZoneSetting(
                f"{name}-{setting_id.replace('_', '-')}",
                zone_id=zone_id,
                setting_id=setting_id,
                value=value,
                opts=child,
            )
            for setting_id, value in ZONE_SETTINGS.items()
        }

        # Zone-level pulls present a certificate uploaded to the zone instead of
        # Cloudflare's shared one. The gateways trust only Cloudflare's origin-pull CA, so
        # an uploaded certificate switched on here would cut every origin off: pin it off.
        self.zone_level_pulls = cloudflare.AuthenticatedOriginPullsSettings(
            f"{name}-zone-level-pulls",
            zone_id=zone_id,
            enabled=False,
            opts=child,
        )

        self.register_outputs(
            {setting_id: resource.value for setting_id, resource in self.settings.items()}
            | {"zoneLevelPulls": self.zone_level_pulls.enabled}
        )


class OriginCertificate(pulumi.ComponentResource):
    """A Cloudflare Origin CA certificate for the stack's hostname, from a key that never
    leaves the Pulumi state (encrypted there as a secret)."""

    key: tls.PrivateKey
    request: tls.CertRequest
    certificate: cloudflare.OriginCaCertificate
    origin_tls: OriginTls
    expires_on: pulumi.Output[str]

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:OriginCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # ECDSA P-256: the cheapest handshake for Cloudflare and the gateways alike.
        self.key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        # The provider marks the key secret; saying so here keeps it secret wherever the
        # value flows (the CSR's input, the gateways' TLS secrets), mocks included.
        private_key_pem: pulumi.Output[str] = pulumi.Output.secret(self.key.private_key_pem)

        self.request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=settings.hostname, organization="Marketplace"),
            dns_names=[settings.hostname],
            opts=child,
        )

        # Replacing it (new key, new validity) issues the new certificate first; the old
        # one is revoked when Pulumi deletes it, after the gateways carry the new one.
        self.certificate = cloudflare.OriginCaCertificate(
            f"{name}-certificate",
            csr=self.request.cert_request_pem,
            hostnames=[settings.hostname],
            request_type=_REQUEST_TYPE,
            requested_validity=settings.edge.origin_certificate_validity_days,
            opts=child,
        )
        self.expires_on = self.certificate.expires_on

        self.origin_tls = OriginTls(
            certificate_pem=self.certificate.certificate,
            private_key_pem=private_key_pem,
            client_ca_pem=cloudflare_origin_pull_ca(),
        )

        self.register_outputs(
            {
                "certificatePem": self.certificate.certificate,
                "expiresOn": self.expires_on,
                "hostnames": [settings.hostname],
            }
        )


def pool_name(settings: StackSettings, region: str) -> str:
    """Pools are account-wide: the name carries the stack (letters, digits, hyphens only)."""
    return f"{settings.name_prefix}-{region}"


def region_pool_regions(settings: StackSettings) -> dict[str, list[str]]:
    """Cloudflare region code -> regions whose pools serve it, in failover order."""
    return {code: list(regions) for code, regions in settings.edge.region_pools}


@dataclass(frozen=True)
class Origin:
    """One cluster generation behind a region's pool."""

    name: str  # the cluster's logical name: nyc3, nyc3-green
    address: pulumi.Input[str]
    # Share of the region's traffic relative to the pool's other origins; 0 keeps the
    # cluster up, health-checked, and out of rotation.
    weight: float


class Edge(pulumi.ComponentResource):
    """How visitors reach a cluster: Cloudflare's load balancer steering each visitor to
    the nearest healthy cluster (by the pools' coordinates, or by measured latency on
    Enterprise), or, for a personal dev stack, a proxied DNS record to its one cluster.

    `origins` maps each region of the stack to its cluster generations' gateways."""

    monitor: cloudflare.LoadBalancerMonitor | None
    pools: dict[str, cloudflare.LoadBalancerPool]
    load_balancer: cloudflare.LoadBalancer | None
    notification: cloudflare.NotificationPolicy | None
    record: cloudflare.DnsRecord | None
    edge_certificate: cloudflare.CertificatePack | None
    pool_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        origins: Mapping[str, Sequence[Origin]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if set(origins) != set(settings.regions):
            raise ValueError(
                f"Edge needs one origin per region of the stack ({', '.join(settings.regions)}), "
                f"got {', '.join(sorted(origins)) or 'none'}"
            )
        super().__init__("marketplace:index:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.monitor = None
        self.pools = {}
        self.load_balancer = None
        self.notification = None
        self.record = None
        self.edge_certificate = None

        # Universal SSL covers the zone apex and one level below it; a deeper hostname
        # (staging.catalog.example.com) needs an edge certificate of its own, or browsers
        # see a certificate error before the load balancer is ever reached.
        if settings.edge.edge_certificate_hosts:
            self.edge_certificate = cloudflare.CertificatePack(
                f"{name}-edge-certificate",
                zone_id=settings.cloudflare_zone_id,
                type="advanced",
                hosts=list(settings.edge.edge_certificate_hosts),
                validation_method="txt",
                validity_days=90,
                certificate_authority="lets_encrypt",
                cloudflare_branding=False,
                opts=child,
            )

        if settings.edge.load_balanced:
            self._load_balance(name, settings, origins)
        else:
            region = settings.regions[0]
            serving = max(origins[region], key=lambda origin: origin.weight)
            # A personal stack has one cluster: a record costs nothing, where a load
            # balancer, pool and monitor per developer would be billed every month.
            self.record = cloudflare.DnsRecord(
                f"{name}-record",
                zone_id=settings.cloudflare_zone_id,
                name=settings.hostname,
                type="A",
                content=serving.address,
                ttl=1,  # automatic: proxied records always are
                proxied=True,
                comment=f"Marketplace {settings.stack}: personal dev stack on its {region} cluster (Pulumi)",
                opts=child,
            )

        self.pool_ids = {region: pool.id for region, pool in self.pools.items()}
        self.register_outputs(
            {
                "hostname": settings.hostname,
                "origins": {o.name: o.address for generations in origins.values() for o in generations},
                "poolIds": self.pool_ids,
                "monitorId": self.monitor.id if self.monitor else None,
                "loadBalancerId": self.load_balancer.id if self.load_balancer else None,
                "recordId": self.record.id if self.record else None,
            }
        )

    def _load_balance(self, name: str, settings: StackSettings, origins: Mapping[str, Sequence[Origin]]) -> None:
        edge = settings.edge
        probe = edge.monitor
        child = pulumi.ResourceOptions(parent=self)

        # One monitor for every pool: each cluster serves the same catalog the same way.
        self.monitor = cloudflare.LoadBalancerMonitor(
            f"{name}-monitor",
            account_id=settings.cloudflare_account_id,
            description=f"{settings.name_prefix} catalog {probe.path}",
            type="https",
            method="GET",
            path=probe.path,
            # The gateways route by host name and hold a certificate for it only.
            header={"Host": [settings.hostname]},
            expected_codes=probe.expected_codes,
            interval=probe.interval,
            timeout=probe.timeout,
            retries=probe.retries,
            consecutive_up=probe.consecutive_up,
            consecutive_down=probe.consecutive_down,
            follow_redirects=False,
            # The gateways serve a Cloudflare Origin CA certificate, which no public CA
            # signs; Cloudflare documents no monitor that trusts it, and a monitor that
            # validates it fails with "TLS untrusted certificate" on every pool at once,
            # sending all traffic to the fallback pool. So the probe does not validate
            # the certificate. What proves a probe reached our gateway is the rest of
            # it: the gateway's load balancer admits only Cloudflare's ranges, its
            # listener requires Cloudflare's origin-pull client certificate (probe_zone),
            # and only the catalog's route answers Host <hostname> /healthz with 200.
            # Visitors' traffic is still validated (SSL mode strict). docs/edge.md.
            allow_insecure=True,
            # Probes leave through the zone's settings, so they present the authenticated
            # origin pull certificate the gateways require; without it every probe fails
            # the TLS handshake and every pool is marked down at once.
            probe_zone=settings.zone_name,
            opts=child,
        )

        check_regions = dict(edge.check_regions)
        for region in settings.regions:
            place = REGIONS[region]
            self.pools[region] = cloudflare.LoadBalancerPool(
                f"{region}-pool",
                account_id=settings.cloudflare_account_id,
                name=pool_name(settings, region),
                description=f"Marketplace {settings.stack}: the {place.city} cluster ({region})",
                origins=[
                    cloudflare.LoadBalancerPoolOriginArgs(
                        name=origin.name,
                        address=origin.address,
                        enabled=True,
                        weight=origin.weight,
                        header=cloudflare.LoadBalancerPoolOriginHeaderArgs(hosts=[settings.hostname]),
                    )
                    for origin in origins[region]
                ],
                # Within a region, visitors split between cluster generations by weight:
                # a canary takes exactly its declared share.
                origin_steering=cloudflare.LoadBalancerPoolOriginSteeringArgs(policy="random"),
                # A drained region takes no visitors and no probes; the others absorb it.
                enabled=region not in edge.drained_regions,
                # A region is up while one of its cluster generations is.
                minimum_origins=1,
                monitor=self.monitor.id,
                # An odd number of regions, at least three: the majority that decides the
                # pool's health survives one region's network fault. Every region when
                # dynamic latency steers by the probes' round-trip times.
                check_regions=list(check_regions[region]),
                # Proximity steering (and the dashboard's map) place the pool here.
                latitude=place.latitude,
                longitude=place.longitude,
                # An origin event mostly repeats its pool's (one origin, or two during an
                # upgrade, which the operator is watching anyway): keep the
                # pool's alone, both down and back up.
                notification_filter=cloudflare.LoadBalancerPoolNotificationFilterArgs(
                    origin=cloudflare.LoadBalancerPoolNotificationFilterOriginArgs(disable=True),
                    pool=cloudflare.LoadBalancerPoolNotificationFilterPoolArgs(disable=False),
                ),
                opts=child,
            )

        pool_ids = {region: pool.id for region, pool in self.pools.items()}
        region_pools = region_pool_regions(settings)
        self.load_balancer = cloudflare.LoadBalancer(
            f"{name}-lb",
            zone_id=settings.cloudflare_zone_id,
            name=settings.hostname,
            description=f"Marketplace {settings.stack}: {edge.steering_policy} steering across {', '.join(settings.regions)}",
            proxied=True,
            steering_policy=edge.steering_policy,
            # In the stack's region order: the failover order when steering has no
            # measurement yet (a new load balancer, or steering "off").
            default_pools=[pool_ids[region] for region in settings.regions],
            # Taken when every pool is unhealthy, whatever its own health: better a
            # cluster that may answer than a Cloudflare error page.
            fallback_pool=pool_ids[edge.fallback_region],
            region_pools=(
                {code: [pool_ids[region] for region in regions] for code, regions in region_pools.items()}
                if region_pools
                else None
            ),
            # A request that fails to connect (521/522/523) is retried once on another
            # healthy pool at once, instead of failing until the monitor notices.
            adaptive_routing=cloudflare.LoadBalancerAdaptiveRoutingArgs(failover_across_pools=True),
            session_affinity=edge.session_affinity,
            # Production's catalog hostname: deleting it takes the site off the internet.
            opts=pulumi.ResourceOptions(parent=self, protect=edge.protect),
        )

        if edge.notification_email:
            # Cloudflare's notification service replaces the pools' deprecated
            # notification_email: one policy for this stack's pools.
            self.notification = cloudflare.NotificationPolicy(
                f"{name}-pool-health",
                account_id=settings.cloudflare_account_id,
                name=f"{settings.name_prefix} catalog pool health",
                description=f"A cluster of the Marketplace {settings.stack} stack left or rejoined the load balancer",
                alert_type="load_balancing_health_alert",
                enabled=True,
                mechanisms=cloudflare.NotificationPolicyMechanismsArgs(
                    emails=[cloudflare.NotificationPolicyMechanismsEmailArgs(id=edge.notification_email)]
                ),
                # Pool events only, both ways: an origin event repeats its pool's (one
                # origin per pool, or two during an upgrade the operator is watching).
                # The SDK's filter names are plural (the API's event_source, new_health).
                filters=cloudflare.NotificationPolicyFiltersArgs(
                    pool_ids=[pool_ids[region] for region in settings.regions],
                    event_sources=["pool"],
                    new_healths=["Unhealthy", "Healthy"],
                ),
                opts=child,
            )
