"""Deterministic, plausible provider answers for the offline plan.

The same inputs always give the same ids, addresses and endpoints, so two plans of one
stack compare equal and a diff shows only what changed. Addresses come from 198.18.0.0/15
(reserved for benchmarking, RFC 2544): they look like public IPs and reach no one.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any

import pulumi

from components.kubernetes_versions import version_table

# Offered DOKS releases, newest first, as `doctl kubernetes options versions` lists them:
# the slugs data/kubernetes-versions.yaml marks offered (refresh it there).
DOKS_VERSIONS = version_table().offered_slugs()

# Cloudflare's published ranges (https://www.cloudflare.com/ips/), as get_ip_ranges returns them.
CLOUDFLARE_IPV4 = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)  # fmt: skip
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)  # fmt: skip

_ADDRESSES = ipaddress.IPv4Network("198.18.0.0/15")


def digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def fake_uuid(*parts: str) -> str:
    h = digest(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def fake_ip(*parts: str) -> str:
    offset = int(digest(*parts)[:8], 16) % (_ADDRESSES.num_addresses - 2) + 1
    return str(_ADDRESSES.network_address + offset)


def fake_pem(kind: str, *parts: str) -> str:
    body = base64.b64encode(f"offline plan {kind} {digest(*parts)}".encode()).decode()
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


OutputFactory = Callable[[pulumi.runtime.MockResourceArgs, str], dict[str, Any]]


def _vpc(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    return {"urn": f"do:vpc:{rid}", "default": False, "createdAt": "2026-01-01T00:00:00Z"}


def _doks(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    endpoint = f"https://{rid}.k8s.ondigitalocean.com"
    ca = base64.b64encode(fake_pem("CERTIFICATE", "ca", rid).encode()).decode()
    pool = dict(args.inputs.get("nodePool") or {})
    pool.update({"id": fake_uuid("pool", rid), "actualNodeCount": pool.get("minNodes", 1)})
    return {
        "clusterUrn": f"do:kubernetes:{rid}",
        "endpoint": endpoint,
        "ipv4Address": fake_ip("doks", rid),
        "status": "running",
        "nodePool": pool,
        "kubeConfigs": [
            {
                "host": endpoint,
                "clusterCaCertificate": ca,
                "token": f"dop_v1_offline_{digest('kubeconfig', rid)[:40]}",
                "expiresAt": "2026-01-08T00:00:00Z",
                "rawConfig": f"apiVersion: v1\nkind: Config\n# offline plan kubeconfig of {rid}\n",
            }
        ],
    }


def _registry(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    name = args.inputs["name"]
    return {"endpoint": f"registry.digitalocean.com/{name}", "serverUrl": "registry.digitalocean.com"}


def _bucket(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    name = args.inputs["name"]
    region = args.inputs.get("region", "nyc3")
    return {
        "bucketDomainName": f"{name}.{region}.digitaloceanspaces.com",
        "bucketUrn": f"do:space:{name}",
        "endpoint": f"{region}.digitaloceanspaces.com",
    }


def _cdn(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    origin = str(args.inputs.get("origin", ""))
    endpoint = origin.replace(".digitaloceanspaces.com", ".cdn.digitaloceanspaces.com")
    return {"endpoint": endpoint, "createdAt": "2026-01-01T00:00:00Z"}


def _service(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    spec = args.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return {}
    return {"status": {"loadBalancer": {"ingress": [{"ip": fake_ip("lb", args.name)}]}}}


def _helm_release(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    return {
        "status": {
            "name": args.inputs.get("name", args.name),
            "namespace": args.inputs.get("namespace", "default"),
            "revision": 1,
            "status": "deployed",
            "version": args.inputs.get("version", ""),
        }
    }


def _private_key(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    return {
        "privateKeyPem": fake_pem("PRIVATE KEY", "tls-key", rid),
        "publicKeyPem": fake_pem("PUBLIC KEY", "tls-key", rid),
    }


def _cert_request(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    return {"certRequestPem": fake_pem("CERTIFICATE REQUEST", "csr", rid)}


def _origin_ca_certificate(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    days = int(args.inputs.get("requestedValidity") or 5475)
    expires = datetime.date(2026, 1, 1) + datetime.timedelta(days=days)
    return {"certificate": fake_pem("CERTIFICATE", "origin-ca", rid), "expiresOn": f"{expires.isoformat()}T00:00:00Z"}


def _gateway(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    # Envoy Gateway reports the address of the load balancer it made for the Gateway. The
    # resource name starts with the region, so each region's gateway gets its own address.
    address = fake_ip("gateway", pulumi.get_stack(), args.name)
    return {"status": {"addresses": [{"type": "IPAddress", "value": address}]}}


def _database_cluster(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    # Hosts as DigitalOcean names them (openapi databases opensearch_connection.yml); the
    # password is one of the outputs the provider marks secret.
    name = args.inputs.get("name", args.name)
    host = f"{name}-do-user-0-0.k.db.ondigitalocean.com"
    password = f"offline-db-password-{digest('db-password', rid)[:16]}"
    port = 25060
    return {
        "clusterUrn": f"do:dbaas:{rid}",
        "host": host,
        "privateHost": f"private-{host}",
        "port": port,
        "user": "doadmin",
        "password": password,
        "uri": f"https://doadmin:{password}@{host}:{port}",
        "privateUri": f"https://doadmin:{password}@private-{host}:{port}",
        "uiHost": f"{name}-dashboards-do-user-0-0.k.db.ondigitalocean.com",
        "uiPort": 443,
        "uiUser": "doadmin",
        "uiPassword": password,
        "database": "",
    }


def _database_user(args: pulumi.runtime.MockResourceArgs, rid: str) -> dict[str, Any]:
    return {"password": f"offline-user-password-{digest('user-password', rid)[:16]}", "role": "normal"}


OUTPUTS: dict[str, OutputFactory] = {
    "digitalocean:index/vpc:Vpc": _vpc,
    "digitalocean:index/kubernetesCluster:KubernetesCluster": _doks,
    "digitalocean:index/spacesBucket:SpacesBucket": _bucket,
    "digitalocean:index/containerRegistry:ContainerRegistry": _registry,
    "digitalocean:index/cdn:Cdn": _cdn,
    "digitalocean:index/databaseCluster:DatabaseCluster": _database_cluster,
    "digitalocean:index/databaseUser:DatabaseUser": _database_user,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:helm.sh/v3:Release": _helm_release,
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": _gateway,
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/certRequest:CertRequest": _cert_request,
    "cloudflare:index/originCaCertificate:OriginCaCertificate": _origin_ca_certificate,
}

# Cloudflare identifies these by 32 hex digits, not a UUID.
HEX_IDS = {
    "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor",
    "cloudflare:index/loadBalancerPool:LoadBalancerPool",
    "cloudflare:index/loadBalancer:LoadBalancer",
    "cloudflare:index/dnsRecord:DnsRecord",
    "cloudflare:index/notificationPolicy:NotificationPolicy",
}

# Resources whose physical name the provider derives from the logical name plus a random
# suffix when the program gives none (Pulumi auto-naming).
AUTONAMED = {"digitalocean:index/spacesBucket:SpacesBucket"}


def _versions(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    prefix = args.args.get("versionPrefix") or ""
    valid = [v for v in DOKS_VERSIONS if v.startswith(prefix)]
    return {"latestVersion": valid[0] if valid else "", "validVersions": valid, "versionPrefix": prefix}


def _ip_ranges(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    return {
        "ipv4Cidrs": list(CLOUDFLARE_IPV4),
        "ipv6Cidrs": list(CLOUDFLARE_IPV6),
        "chinaIpv4Cidrs": [],
        "chinaIpv6Cidrs": [],
        "etag": digest("ip-ranges")[:16],
    }


def _database_ca(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    cluster = str(args.args.get("clusterId", ""))
    return {"certificate": fake_pem("CERTIFICATE", "database-ca", cluster), "clusterId": cluster, "id": cluster}


INVOKES: dict[str, Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]] = {
    "digitalocean:index/getKubernetesVersions:getKubernetesVersions": _versions,
    "cloudflare:index/getIpRanges:getIpRanges": _ip_ranges,
    "digitalocean:index/getDatabaseCa:getDatabaseCa": _database_ca,
}


class OfflineMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        parts = (pulumi.get_stack(), args.typ, args.name)
        rid = args.resource_id or (digest(*parts)[:32] if args.typ in HEX_IDS else fake_uuid(*parts))
        state = dict(args.inputs)
        if args.typ in AUTONAMED and not state.get("name"):
            state["name"] = f"{args.name}-{digest('autoname', args.name)[:7]}"
        metadata = state.get("metadata")
        if args.typ.startswith("kubernetes:") and isinstance(metadata, dict) and not metadata.get("name"):
            state["metadata"] = {**metadata, "name": f"{args.name}-{digest('autoname', args.name)[:8]}"}
        factory = OUTPUTS.get(args.typ)
        if factory:
            args.inputs = state
            state.update(factory(args, rid))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        answer = INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the offline plan has no answer for the invoke {args.token}")
        return answer(args)
