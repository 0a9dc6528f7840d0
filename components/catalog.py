"""The catalog on one regional cluster: the web front end and the API (which fronts the
catalog service, OpenChannel in the original design), locked down and routed through the
regional gateway. Every region runs the same objects; only the region's name differs.
"""

from __future__ import annotations

import urllib.parse

import pulumi
import pulumi_kubernetes as kubernetes

from components.catalog_app import (
    API_KEY_DIR,
    API_KEY_FILE,
    HTTP_PORT,
    METRICS_PORT,
    SERVICE_PORT,
    AppSpec,
    CatalogApp,
    app_labels,
)
from components.cluster import RegionalCluster
from components.gateway import ROUTES_LABEL, RegionalGateway, http_route
from components.namespaces import (
    CATALOG_NAMESPACE,
    GATEWAY_NAMESPACE,
    MONITORING_NAMESPACE,
    PROMETHEUS_POD_LABELS,
    PROXY_POD_LABELS,
    declare_namespace,
)
from components.network_policies import allow_dns, default_deny, pods_in, public_egress, tcp
from components.registry import pull_secret
from components.settings.edge import HEALTH_PATH
from components.settings.stack import StackSettings

k8s = kubernetes
meta = kubernetes.meta.v1
core = kubernetes.core.v1

API_PATH = "/api"


def catalog_service_port(url: str) -> int:
    return urllib.parse.urlsplit(url).port or 443


class Catalog(pulumi.ComponentResource):
    """The catalog namespace of one region: both workloads, their routes on the regional
    gateway, and a network that denies everything they were not given."""

    namespace: core.Namespace
    web: CatalogApp
    api: CatalogApp

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        region: str,
        cluster: RegionalCluster,
        gateway: RegionalGateway,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:Catalog", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        workloads = settings.workloads

        # The API server itself refuses any pod here that is not hardened.
        self.namespace = declare_namespace(
            f"{name}-namespace", CATALOG_NAMESPACE, on_cluster, enforce="restricted", report="restricted", labels=ROUTES_LABEL
        )
        namespace = self.namespace.metadata.name

        self.default_deny = default_deny(f"{name}-default-deny", name="default-deny", namespace=namespace, opts=on_cluster)
        self.allow_dns = allow_dns(f"{name}-allow-dns", namespace=namespace, opts=on_cluster)

        from_gateway = pods_in(GATEWAY_NAMESPACE, PROXY_POD_LABELS)
        scrapes: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs] = (
            [
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[pods_in(MONITORING_NAMESPACE, PROMETHEUS_POD_LABELS)], ports=tcp(METRICS_PORT)
                )
            ]
            if settings.monitoring.enabled
            else []
        )
        common = {
            "MARKETPLACE_STACK": settings.stack,
            "MARKETPLACE_REGION": region,
            "PUBLIC_URL": f"https://{settings.hostname}",
            "PORT": str(HTTP_PORT),
            "METRICS_PORT": str(METRICS_PORT),
            "LOG_LEVEL": "debug" if settings.kind == "dev" else "info",
        }
        api_environment = {
            **common,
            "BASE_PATH": API_PATH,
            "CATALOG_SERVICE_URL": workloads.catalog_service_url,
            **(
                {"CATALOG_API_KEY_FILE": f"{API_KEY_DIR}/{API_KEY_FILE}"}
                if workloads.catalog_api_key
                else {"CATALOG_ANONYMOUS": "true"}
            ),
        }
        api_port = catalog_service_port(workloads.catalog_service_url)
        api_spec = AppSpec(
            role="api",
            settings=workloads.api,
            environment=api_environment,
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[from_gateway, pods_in(CATALOG_NAMESPACE, app_labels("web"))], ports=tcp(HTTP_PORT)
                ),
                *scrapes,
            ],
            egress=[
                # The catalog service is outside the cluster; its addresses are not ours
                # to pin, so the rule admits any public address on its port only.
                public_egress([api_port])
            ],
            api_key=workloads.catalog_api_key,
        )
        web_spec = AppSpec(
            role="web",
            settings=workloads.web,
            environment={
                **common,
                "CATALOG_API_URL": f"http://catalog-api.{CATALOG_NAMESPACE}.svc.cluster.local{API_PATH}",
            },
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[from_gateway], ports=tcp(HTTP_PORT)),
                *scrapes,
            ],
            # The front end renders from the API and nothing else.
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[pods_in(CATALOG_NAMESPACE, app_labels("api"))], ports=tcp(HTTP_PORT)
                )
            ],
        )
        # Images outside the account's registry (the cluster's own access) need the stack's pull secret.
        secret = settings.registry.pull_secret
        pulls = pull_secret(f"{name}-pull-secret", secret, namespace, on_cluster).metadata.name if secret else None
        self.web, self.api = (
            CatalogApp(
                f"{name}-{spec.role}",
                spec,
                namespace=namespace,
                cluster=cluster,
                pull_secret=pulls,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for spec in (web_spec, api_spec)
        )

        # The API gets /api and the health path; everything else is the front end's. The
        # edge's monitors and the uptime checks probe the health path: a region is healthy
        # only when its gateway, its routes and its API pods all answer.
        routes = {"web": [("PathPrefix", "/")], "api": [("PathPrefix", API_PATH), ("Exact", HEALTH_PATH)]}
        route_opts = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[gateway.gateway]))
        self.routes = [
            http_route(
                f"{name}-{role}-route",
                service=f"catalog-{role}",
                port=SERVICE_PORT,
                hostname=settings.hostname,
                parent_ref=gateway.parent_ref,
                paths=paths,
                namespace=namespace,
                opts=route_opts,
            )
            for role, paths in routes.items()
        ]

        self.register_outputs(
            {
                "namespace": namespace,
                "web": self.web.deployment.metadata.name,
                "api": self.api.deployment.metadata.name,
                "healthPath": HEALTH_PATH,
            }
        )
