"""Namespaces and pod labels that components on one cluster agree on: the catalog's network
policies admit the gateway's proxies and Prometheus, and monitoring scrapes the catalog and
the proxies. They live here so that no component imports another for a name."""

from __future__ import annotations

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
