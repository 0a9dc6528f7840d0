"""Hand-built resources in the shapes the engine records (camelCase inputs, apiVersion and
kind on Kubernetes objects), for the policies of resources this branch does not declare yet:
catalog workloads, the Envoy gateway and the Cloudflare edge.

`good_edge_and_workloads()` is one cluster's worth of objects that satisfy every policy;
tests break one field at a time. The Kubernetes objects double as manifests for checkov.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from offline.engine import Plan, PlannedResource
from offline.mocks import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
CLIENT_TRAFFIC_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GATEWAY_CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LOAD_BALANCER = "cloudflare:index/loadBalancer:LoadBalancer"

WEB_IMAGE = "registry.digitalocean.com/marketplace/catalog-web:1.0.0"
WEB_LABELS = {"app.kubernetes.io/name": "catalog-web", "app.kubernetes.io/part-of": "catalog"}
CLOUDFLARE_RANGES = [*CLOUDFLARE_IPV4, *CLOUDFLARE_IPV6]


def container(name: str = "web", image: str = WEB_IMAGE) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz/live", "port": "http"}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment(name: str = "catalog-web", namespace: str = "catalog") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(WEB_LABELS)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {**WEB_LABELS, "app.kubernetes.io/name": name}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container()],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def hpa(name: str = "catalog-web", namespace: str = "catalog", min_replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min_replicas,
            "maxReplicas": 12,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
            ],
        },
    }


def pdb(name: str = "catalog-web", namespace: str = "catalog") -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
    }


def default_deny(namespace: str = "catalog") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_from_gateway(namespace: str = "catalog") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-gateway", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "catalog"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}],
                    "ports": [{"port": 8080, "protocol": "TCP"}],
                }
            ],
        },
    }


def service(name: str = "catalog-web", namespace: str = "catalog") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def namespace(name: str = "catalog") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def envoy_proxy(ranges: list[str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyProxy",
        "metadata": {"name": "catalog-proxy", "namespace": "gateway"},
        "spec": {
            "provider": {
                "type": "Kubernetes",
                "kubernetes": {
                    "envoyService": {
                        "annotations": {"service.beta.kubernetes.io/do-loadbalancer-size-unit": "2"},
                        "externalTrafficPolicy": "Local",
                        "loadBalancerSourceRanges": list(CLOUDFLARE_RANGES if ranges is None else ranges),
                    }
                },
            }
        },
    }


def gateway_class() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "envoy"},
        "spec": {
            "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
            "parametersRef": {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": "catalog-proxy",
                "namespace": "gateway",
            },
        },
    }


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "catalog", "namespace": "gateway"},
        "spec": {
            "gatewayClassName": "envoy",
            "listeners": [
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "origin-tls"}]},
                }
            ],
        },
    }


def client_traffic_policy() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "ClientTrafficPolicy",
        "metadata": {"name": "cloudflare-only", "namespace": "gateway"},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "catalog"}],
            "tls": {"clientValidation": {"caCertificateRefs": [{"kind": "Secret", "name": "cloudflare-origin-pull-ca"}]}},
        },
    }


def helm_release() -> dict[str, Any]:
    return {
        "name": "envoy-gateway",
        "chart": "oci://docker.io/envoyproxy/gateway-helm",
        "version": "1.9.1",
        "namespace": "envoy-gateway-system",
        "createNamespace": True,
    }


def monitor() -> dict[str, Any]:
    return {
        "accountId": "0123456789abcdef0123456789abcdef",
        "type": "https",
        "method": "GET",
        "path": "/healthz/ready",
        "expectedCodes": "200",
        "interval": 60,
    }


def pool(region: str = "nyc3") -> dict[str, Any]:
    return {
        "accountId": "0123456789abcdef0123456789abcdef",
        "name": f"mkt-{region}",
        "origins": [{"name": region, "address": "198.18.0.10", "enabled": True, "weight": 1}],
        "monitor": "2f3c0ffee0000000000000000000monitor",
    }


def load_balancer() -> dict[str, Any]:
    return {
        "zoneId": "fedcba9876543210fedcba9876543210",
        "name": "catalog.example.com",
        "defaultPools": ["pool-nyc3"],
        "fallbackPool": "pool-nyc3",
        "steeringPolicy": "proximity",
        "proxied": True,
    }


# (type, logical name, inputs); Kubernetes objects go to the cluster's provider.
Fixture = tuple[str, str, dict[str, Any]]


def good_edge_and_workloads() -> list[Fixture]:
    return [
        (NAMESPACE, "catalog-ns", namespace()),
        (DEPLOYMENT, "catalog-web", deployment()),
        (SERVICE, "catalog-web", service()),
        (HPA, "catalog-web", hpa()),
        (PDB, "catalog-web", pdb()),
        (NETWORK_POLICY, "catalog-default-deny", default_deny()),
        (NETWORK_POLICY, "catalog-allow-gateway", allow_from_gateway()),
        (HELM_RELEASE, "envoy-gateway", helm_release()),
        (ENVOY_PROXY, "catalog-proxy", envoy_proxy()),
        (GATEWAY_CLASS, "envoy", gateway_class()),
        (GATEWAY, "catalog-gateway", gateway()),
        (CLIENT_TRAFFIC_POLICY, "cloudflare-only", client_traffic_policy()),
        (MONITOR, "catalog-monitor", monitor()),
        (POOL, "nyc3-pool", pool()),
        (LOAD_BALANCER, "catalog-lb", load_balancer()),
    ]


def manifests(fixtures: Iterable[Fixture]) -> list[dict[str, Any]]:
    """The Kubernetes objects among fixtures, as YAML manifests carry them."""
    return [copy.deepcopy(inputs) for type_, _, inputs in fixtures if type_.startswith("kubernetes:") and "kind" in inputs]


def with_resources(plan: Plan, fixtures: Iterable[Fixture]) -> Plan:
    """A copy of `plan` with the fixtures registered as the engine would record them:
    Kubernetes objects on the plan's first cluster provider, the rest on default providers."""
    k8s = plan.of_type("pulumi:providers:kubernetes")[0]
    added = []
    for type_, name, inputs in fixtures:
        on_cluster = type_.startswith("kubernetes:")
        urn = f"urn:pulumi:{plan.stack}::{plan.project}::{type_}::{name}"
        added.append(
            PlannedResource(
                urn=urn,
                id=f"{name}-id",
                type=type_,
                name=name,
                parent=None,
                custom=True,
                provider=f"{k8s.urn}::{k8s.id}" if on_cluster else None,
                inputs=copy.deepcopy(inputs),
                outputs=copy.deepcopy(inputs),
                dependencies=[],
                property_dependencies={},
                protect=False,
                retain_on_delete=False,
                ignore_changes=[],
                aliases=[],
            )
        )
    return replace(plan, resources=[*plan.resources, *added])


def edited(
    plan: Plan,
    type_: str,
    change: Callable[[dict[str, Any]], Any] | None = None,
    *,
    name: str | None = None,
    protect: bool | None = None,
) -> Plan:
    """A copy of `plan` whose resources of `type_` (named `name`, if given) have `change`
    applied to deep copies of their inputs and outputs alike (resource policies read inputs,
    stack policies outputs), and `protect` set if given."""
    resources = []
    for resource in plan.resources:
        if resource.type != type_ or name not in (None, resource.name):
            resources.append(resource)
            continue
        inputs, outputs = copy.deepcopy(resource.inputs), copy.deepcopy(resource.outputs)
        if change:
            change(inputs)
            change(outputs)
        protected = resource.protect if protect is None else protect
        resources.append(replace(resource, inputs=inputs, outputs=outputs, protect=protected))
    return replace(plan, resources=resources)
