"""The regional gateway: Envoy Gateway behind a DigitalOcean load balancer that only
Cloudflare can reach, terminating TLS with the origin certificate and admitting only
clients that present Cloudflare's origin-pull certificate.

Why Envoy Gateway and not DOKS's built-in Cilium gateway: Cilium's gateway cannot validate
client certificates (cilium/cilium#45783), and authenticated origin pulls need exactly that.
ingress-nginx is out: it is unmaintained since 2026-03.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pulumi
import pulumi_kubernetes as kubernetes

from components.cluster import DO_LOAD_BALANCER, RegionalCluster
from components.namespaces import GATEWAY_NAMESPACE, declare_namespace
from components.origin_tls import OriginTls
from components.settings.stack import StackSettings

# One Envoy Gateway release pins everything: its controller, its CRDs, and the Gateway
# API CRDs it bundles (v1.6.1 for the 1.9 line). Upgrade them together, in this order:
# staging first, one region, then the rest (docs/workloads.md).
ENVOY_GATEWAY_VERSION = "v1.9.2"
GATEWAY_API_VERSION = "v1.6.1"
CONTROLLER_CHART = "oci://docker.io/envoyproxy/gateway-helm"
CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm"

CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
GATEWAY_CLASS = "marketplace-envoy"
GATEWAY_NAME = "catalog"
LISTENER = "https"

GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAY_API = f"{GATEWAY_GROUP}/v1"
ENVOY_GROUP = "gateway.envoyproxy.io"
ENVOY_API = f"{ENVOY_GROUP}/v1alpha1"
PROXY_CONFIG = "catalog-proxy"

# A namespace may attach routes to the catalog Gateway only with this label. Only the
# program creates namespaces on these clusters, so the label is an allow-list.
ROUTES_LABEL = {"marketplace/gateway": GATEWAY_NAME}

DOKS_INSTALL_POLICY = "doks.digitalocean.com/install-policy"
_CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def cloudflare_source_ranges(provider: pulumi.ProviderResource | None = None) -> tuple[str, ...]:
    """Cloudflare's published IPv4 ranges: the only clients an origin load balancer admits.
    Read at every deployment, so a new Cloudflare range reaches the load-balancer firewalls
    with the next `pulumi up`.

    IPv4 only, on purpose. DigitalOcean load-balancer firewalls take no IPv6 rules, and a
    list that has some leaves the load balancer without a firewall at all, open to everyone
    (digitalocean/digitalocean-cloud-controller-manager#692). Nothing is lost: the origin
    address the edge's pools use is the load balancer's IPv4 address, so Cloudflare reaches
    the origins over IPv4."""
    import pulumi_cloudflare as cloudflare

    invoke = pulumi.InvokeOptions(provider=provider) if provider else None
    ranges = tuple(cloudflare.get_ip_ranges(opts=invoke).ipv4_cidrs)
    # Checked here, once, before any gateway is declared: a RunError stops `pulumi up` with
    # the message alone.
    if not ranges or any(":" in cidr for cidr in ranges):
        raise pulumi.RunError("a gateway needs IPv4 source ranges: none, or any IPv6 one, leaves it open")
    return ranges


def doks_external_crds(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Transform for the CRD chart's objects.

    DOKS installs six Gateway API CRDs of its own (an older bundle) and reconciles them back
    unless they carry `doks.digitalocean.com/install-policy: external` (digitalocean/DOKS#33).
    CRDs are kept when they leave the program: deleting a CRD deletes every object of its
    kind in the cluster, the live Gateway and routes included."""
    if args.type_ != _CRD_TYPE:
        return None
    props = dict(cast(Mapping[str, Any], args.props))
    metadata = dict(props.get("metadata") or {})
    spec = props.get("spec") or {}
    if spec.get("group") == GATEWAY_GROUP:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), DOKS_INSTALL_POLICY: "external"}
    props["metadata"] = metadata
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
    return pulumi.ResourceTransformResult(props=props, opts=opts)


class StatusCustomResource(kubernetes.apiextensions.CustomResource):
    """A CustomResource whose live `status` can be read.

    The SDK's CustomResource declares no `status` output, so the address Envoy Gateway
    writes into a Gateway's status would be dropped. Registering `status` as an output
    (the way the generated kinds do) keeps it. Everything else is the SDK's class."""

    status: pulumi.Output[Any]

    def _internal_init(  # noqa: PLR0917 (the SDK's signature)
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        opts: pulumi.ResourceOptions | None = None,
        metadata: pulumi.Input[Any] | None = None,
        spec: Any | None = None,
        __props__: Any = None,
    ) -> None:
        args_type = kubernetes.apiextensions.CustomResourceArgs
        props = args_type.__new__(args_type)
        props.__dict__.update(api_version=api_version, kind=kind, metadata=metadata, spec=spec, status=None)
        # The typed args object, as the generated resources pass theirs.
        type_ = f"kubernetes:{api_version}:{kind}"
        pulumi.CustomResource.__init__(self, type_, resource_name, cast(Any, props), opts)


def load_balancer_annotations(settings: StackSettings, cluster_physical: str) -> dict[str, str]:
    """DigitalOcean load-balancer settings of a cluster's gateway Service.

    The health check's port, protocol and path are left to DigitalOcean's controller: with
    externalTrafficPolicy Local it must probe what Kubernetes reports per node (is an Envoy
    pod here?), and a fixed port would mark every node healthy or none."""
    return {
        # Named after the cluster generation (mkt-<stack>-nyc3, mkt-<stack>-nyc3-green), never
        # the region alone. DigitalOcean's cloud controller adopts any load balancer of the
        # account that bears the name a new Service asks for (digitalocean-cloud-controller-
        # manager do/loadbalancers.go, find by name), so a green cluster asking for blue's
        # name would take over blue's load balancer, and retiring blue would delete it.
        f"{DO_LOAD_BALANCER}name": f"{cluster_physical}-gateway",
        # REGIONAL, explicitly. The controller's default became the regional network load
        # balancer (REGIONAL_NETWORK, v0.1.61), for which it opens the Service port on every
        # worker to 0.0.0.0/0 (firewall_controller.go), so anyone could reach Envoy past the
        # load balancer's firewall. A REGIONAL load balancer forwards to the NodePorts and
        # gets loadBalancerSourceRanges as its firewall, as DigitalOcean documents
        # (docs.digitalocean.com/notes/2024/kubernetes-loadbalancersourceranges, 2024-07:
        # "DOKS now supports the LoadBalancerSourceRanges field"); the controller adds no
        # worker firewall rule for it.
        f"{DO_LOAD_BALANCER}type": "REGIONAL",
        f"{DO_LOAD_BALANCER}size-unit": str(settings.workloads.gateway.load_balancer_size_unit),
        # TLS passes through: Envoy terminates it, to check the client certificate.
        f"{DO_LOAD_BALANCER}protocol": "tcp",
        f"{DO_LOAD_BALANCER}healthcheck-check-interval-seconds": "5",
        f"{DO_LOAD_BALANCER}healthcheck-response-timeout-seconds": "3",
        f"{DO_LOAD_BALANCER}healthcheck-unhealthy-threshold": "3",
        f"{DO_LOAD_BALANCER}healthcheck-healthy-threshold": "2",
    }


class RegionalGateway(pulumi.ComponentResource):
    """Envoy Gateway on one regional cluster, and the catalog's Gateway on it."""

    namespace: kubernetes.core.v1.Namespace
    gateway: StatusCustomResource
    public_ip: pulumi.Output[str]
    # What an HTTPRoute names as its parent.
    parent_ref: dict[str, str]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        region: str,
        cluster: RegionalCluster,
        tls: OriginTls,
        source_ranges: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`source_ranges`: what cloudflare_source_ranges() returns, checked there."""
        super().__init__("marketplace:index:Gateway", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        gateway_settings = settings.workloads.gateway

        # The proxies' security context is Envoy Gateway's; warn about (rather than refuse)
        # anything a future chart loosens.
        self.namespace = declare_namespace(f"{name}-namespace", GATEWAY_NAMESPACE, on_cluster, report="restricted")
        namespace = self.namespace.metadata.name

        # CRDs: rendered from Envoy Gateway's CRD chart and applied object by object with
        # server-side apply (helm.v4.Chart), not as a Helm release: the release record of
        # these CRDs exceeds the 1 MiB Secret Helm keeps it in (envoyproxy/gateway's chart
        # README says the same: `helm template | kubectl apply --server-side`). The chart
        # cannot annotate them for DOKS, so a transform does. DOKS has already installed
        # six of them: only this provider may adopt existing objects (upsert) and take
        # their fields over from DOKS's field manager (patch force).
        crd_provider = kubernetes.Provider(
            f"{name}-crd-k8s",
            kubeconfig=cluster.kubeconfig,
            enable_server_side_apply=True,
            upsert_existing_objects=True,
            enable_patch_force=True,
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.crds = kubernetes.helm.v4.Chart(
            f"{name}-crds",
            kubernetes.helm.v4.ChartArgs(
                chart=CRDS_CHART,
                version=ENVOY_GATEWAY_VERSION,
                values={
                    "crds": {
                        "gatewayAPI": {"enabled": True, "channel": "standard"},
                        "envoyGateway": {"enabled": True},
                    }
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=crd_provider, transforms=[doks_external_crds]),
        )

        controller_replicas = 1 if settings.kind == "dev" else 2
        self.controller = kubernetes.helm.v3.Release(
            f"{name}-controller",
            kubernetes.helm.v3.ReleaseArgs(
                name="envoy-gateway",
                chart=CONTROLLER_CHART,
                version=ENVOY_GATEWAY_VERSION,
                namespace=namespace,
                # The CRDs above are the only copy; the chart's own would fight them.
                skip_crds=True,
                cleanup_on_fail=True,
                max_history=10,
                timeout=600,
                values={
                    "crds": {"enabled": False},
                    "deployment": {
                        "replicas": controller_replicas,
                        "pod": {
                            "topologySpreadConstraints": [_spread({"control-plane": "envoy-gateway"})],
                        },
                    },
                    "podDisruptionBudget": {"minAvailable": controller_replicas - 1},
                },
            ),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.crds])),
        )
        after_controller = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[self.crds, self.controller])
        )

        proxy_config = kubernetes.apiextensions.CustomResource(
            f"{name}-proxy-config",
            api_version=ENVOY_API,
            kind="EnvoyProxy",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=PROXY_CONFIG, namespace=namespace),
            spec={
                "provider": {
                    "type": "Kubernetes",
                    "kubernetes": {
                        "envoyDeployment": {
                            "replicas": gateway_settings.replicas,
                            "pod": {
                                "topologySpreadConstraints": [
                                    _spread(
                                        {
                                            "gateway.envoyproxy.io/owning-gateway-name": GATEWAY_NAME,
                                            "gateway.envoyproxy.io/owning-gateway-namespace": GATEWAY_NAMESPACE,
                                        }
                                    )
                                ]
                            },
                        },
                        **(
                            {"envoyPDB": {"minAvailable": gateway_settings.replicas - 1}} if gateway_settings.replicas > 1 else {}
                        ),
                        "envoyService": {
                            "type": "LoadBalancer",
                            # Only nodes running a proxy take traffic: no second hop
                            # across the cluster, and the client address survives.
                            "externalTrafficPolicy": "Local",
                            "annotations": load_balancer_annotations(settings, cluster.physical),
                            # DigitalOcean turns these into the load balancer's firewall:
                            # anyone but Cloudflare is dropped before reaching Envoy.
                            "loadBalancerSourceRanges": list(source_ranges),
                        },
                    },
                }
            },
            opts=after_controller,
        )

        gateway_class = kubernetes.apiextensions.CustomResource(
            f"{name}-class",
            api_version=GATEWAY_API,
            kind="GatewayClass",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=GATEWAY_CLASS),
            spec={
                "controllerName": CONTROLLER_NAME,
                "parametersRef": {
                    "group": ENVOY_GROUP,
                    "kind": "EnvoyProxy",
                    "name": PROXY_CONFIG,
                    "namespace": GATEWAY_NAMESPACE,
                },
            },
            opts=pulumi.ResourceOptions.merge(after_controller, pulumi.ResourceOptions(depends_on=[proxy_config])),
        )

        # Auto-named (no metadata.name): a new certificate is a new Secret, created before
        # the Gateway switches to it and the old one is deleted.
        certificate = kubernetes.core.v1.Secret(
            f"{name}-origin-tls",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(namespace=namespace),
            type="kubernetes.io/tls",
            string_data={
                "tls.crt": tls.certificate_pem,
                "tls.key": pulumi.Output.secret(tls.private_key_pem),
            },
            opts=on_cluster,
        )
        client_ca = kubernetes.core.v1.ConfigMap(
            f"{name}-client-ca",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(namespace=namespace),
            data={"ca.crt": tls.client_ca_pem},
            opts=on_cluster,
        )

        # Authenticated origin pulls: a client without a certificate signed by the
        # origin-pull CA fails the TLS handshake, whatever its source address. Declared
        # before the Gateway, which waits for it: the listener never serves without it.
        self.client_policy = kubernetes.apiextensions.CustomResource(
            f"{name}-client-tls",
            api_version=ENVOY_API,
            kind="ClientTrafficPolicy",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name="require-origin-pull-certificate", namespace=namespace),
            spec={
                "targetRefs": [{"group": GATEWAY_GROUP, "kind": "Gateway", "name": GATEWAY_NAME}],
                "tls": {
                    "minVersion": "1.2",
                    "clientValidation": {
                        # Explicit: `optional` is deprecated since Envoy Gateway 1.8 in favour of
                        # `mode` (api/v1alpha1/tls_types.go); RequireAndVerify refuses a client
                        # without a certificate the CA below signed.
                        "mode": "RequireAndVerify",
                        "caCertificateRefs": [{"kind": "ConfigMap", "name": client_ca.metadata.name}],
                    },
                },
            },
            opts=after_controller,
        )

        self.gateway = StatusCustomResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=GATEWAY_NAME,
                namespace=namespace,
                annotations={
                    # `pulumi up` waits for the load balancer's address, so the edge's
                    # pools get a real origin address on the first deployment.
                    "pulumi.com/waitFor": "jsonpath={.status.addresses[0].value}",
                },
            ),
            spec={
                "gatewayClassName": GATEWAY_CLASS,
                "listeners": [
                    {
                        "name": LISTENER,
                        "protocol": "HTTPS",
                        "port": 443,
                        "hostname": settings.hostname,
                        "tls": {
                            "mode": "Terminate",
                            "certificateRefs": [{"kind": "Secret", "name": certificate.metadata.name}],
                        },
                        "allowedRoutes": {
                            "namespaces": {
                                "from": "Selector",
                                "selector": {"matchLabels": ROUTES_LABEL},
                            }
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions.merge(
                after_controller,
                # A new DigitalOcean load balancer takes minutes to become active.
                pulumi.ResourceOptions(
                    depends_on=[gateway_class, self.client_policy],
                    custom_timeouts=pulumi.CustomTimeouts(create="20m"),
                ),
            ),
        )

        self.public_ip = self.gateway.status.apply(_first_address)
        self.parent_ref = {
            "group": GATEWAY_GROUP,
            "kind": "Gateway",
            "name": GATEWAY_NAME,
            "namespace": GATEWAY_NAMESPACE,
            "sectionName": LISTENER,
        }
        self.register_outputs(
            {
                "publicIp": self.public_ip,
                "namespace": self.namespace.metadata.name,
                "gatewayName": GATEWAY_NAME,
                "envoyGatewayVersion": ENVOY_GATEWAY_VERSION,
                "gatewayApiVersion": GATEWAY_API_VERSION,
            }
        )


def _first_address(status: Any) -> str:
    addresses = (status or {}).get("addresses") or []
    if not addresses:
        raise ValueError("the Gateway reports no address: is the load balancer active?")
    return str(addresses[0]["value"])


def _spread(labels: dict[str, str]) -> dict[str, Any]:
    """Spread across nodes, best effort: a region with fewer nodes than proxies still runs them."""
    return {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": labels},
    }


def http_route(
    resource_name: str,
    *,
    service: str,
    port: int,
    hostname: str,
    parent_ref: Mapping[str, str],
    paths: Sequence[tuple[str, str]],
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> kubernetes.apiextensions.CustomResource:
    """An HTTPRoute on the regional gateway: each (match type, path) to one Service port."""
    return kubernetes.apiextensions.CustomResource(
        resource_name,
        api_version=GATEWAY_API,
        kind="HTTPRoute",
        metadata=kubernetes.meta.v1.ObjectMetaArgs(name=service, namespace=namespace),
        spec={
            "parentRefs": [dict(parent_ref)],
            "hostnames": [hostname],
            "rules": [
                {
                    "matches": [{"path": {"type": match, "value": path}}],
                    "backendRefs": [{"kind": "Service", "name": service, "port": port}],
                }
                for match, path in paths
            ],
        },
        opts=opts,
    )
