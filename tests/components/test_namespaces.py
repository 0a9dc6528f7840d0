"""Namespaces of ours: one builder, and each namespace's pod security as its workloads allow."""

from __future__ import annotations

import ast

from components.namespaces import CATALOG_NAMESPACE, GATEWAY_NAMESPACE, LOGGING_NAMESPACE, MONITORING_NAMESPACE
from offline.stack_config import ROOT
from tests.conftest import plan_of
from tests.k8s_objects import metadata, objects, regions_of


def test_every_namespace_is_declared_by_the_one_builder() -> None:
    """No component builds a Namespace itself (or imports another component for one)."""
    builders = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Namespace":
                builders.append(str(path.relative_to(ROOT)))
    assert builders == ["components/namespaces.py"]


def test_pod_security_follows_what_each_namespace_runs() -> None:
    """The catalog's pods must be hardened; the proxies' are Envoy Gateway's (reported, not
    refused); node exporter and fluent-bit read the node, so theirs are privileged."""
    expected = {
        CATALOG_NAMESPACE: {"enforce": "restricted", "warn": "restricted", "audit": "restricted"},
        GATEWAY_NAMESPACE: {"warn": "restricted", "audit": "restricted"},
        MONITORING_NAMESPACE: {"enforce": "privileged"},
        LOGGING_NAMESPACE: {"enforce": "privileged"},
    }
    plan = plan_of("production")
    for region in regions_of(plan):
        found = {
            metadata(ns)["name"]: {
                key.removeprefix("pod-security.kubernetes.io/"): value
                for key, value in metadata(ns)["labels"].items()
                if key.startswith("pod-security.kubernetes.io/")
            }
            for ns in objects(plan, region, "Namespace")
        }
        assert found == expected, region
