"""Namespaces and pod labels that components on one cluster agree on: the catalog's network
policies admit the gateway's proxies and Prometheus, and monitoring scrapes the catalog and
the proxies. They live here so that no component imports another for a name; so does the one
way a namespace of ours is made."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as kubernetes

CATALOG_NAMESPACE = "catalog"
GATEWAY_NAMESPACE = "envoy-gateway-system"
MONITORING_NAMESPACE = "monitoring"
LOGGING_NAMESPACE = "logging"

# Labels Envoy Gateway puts on the proxy pods it runs for a Gateway: what network policies
# and monitors select.
PROXY_POD_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}

# Labels the Prometheus operator puts on Prometheus pods (what may scrape the catalog).
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}

# Pod Security Admission's namespace labels (kubernetes.io/docs/concepts/security/pod-security-admission).
POD_SECURITY = "pod-security.kubernetes.io"


def declare_namespace(
    resource_name: str,
    name: str,
    opts: pulumi.ResourceOptions,
    *,
    enforce: str | None = None,
    report: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> kubernetes.core.v1.Namespace:
    """A namespace and its pod security: the API server refuses pods below `enforce`, and
    warns the deployer of (and audits) pods below `report`."""
    levels = {
        **({f"{POD_SECURITY}/enforce": enforce} if enforce else {}),
        **({f"{POD_SECURITY}/warn": report, f"{POD_SECURITY}/audit": report} if report else {}),
    }
    return kubernetes.core.v1.Namespace(
        resource_name,
        metadata=kubernetes.meta.v1.ObjectMetaArgs(name=name, labels={**levels, **(labels or {})}),
        opts=opts,
    )
