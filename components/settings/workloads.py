"""Workload settings: the catalog web front end and API (images, replicas, resources), the
regional gateway, and the catalog service the API fronts."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.addresses import https_url_problem, private_host_problem
from components.images import image_problem
from components.settings.cluster import node_capacity
from components.settings.reader import ConfigReader, Secret, shown


@dataclass(frozen=True)
class ComputeResources:
    """Kubernetes quantities, as the stack wrote them (checked: limits not below requests)."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class AppSettings:
    """One catalog workload (the web front end or the API)."""

    image: str
    # The autoscaler's floor and ceiling; the Deployment itself leaves replicas to it.
    replicas: int
    max_replicas: int
    resources: ComputeResources


@dataclass(frozen=True)
class GatewaySettings:
    # Envoy proxy pods behind each regional load balancer.
    replicas: int
    # DigitalOcean load-balancer size units (capacity, billed per unit).
    load_balancer_size_unit: int


@dataclass(frozen=True)
class WorkloadSettings:
    """The catalog workloads and the gateway in front of them, on every cluster."""

    web: AppSettings
    api: AppSettings
    gateway: GatewaySettings
    catalog_service_url: str
    # None only for dev kinds: the API then calls the sandbox anonymously.
    catalog_api_key: Secret | None


# Images every stack runs unless it pins its own (`marketplace:images`), in the account's
# registry (components/settings/registry.py). Tags here are release tags that are never
# pushed twice; a stack may pin a digest instead.
DEFAULT_IMAGES = {"web": "catalog-web:1.0.0", "api": "catalog-api:1.0.0"}

# The catalog service the API fronts. Production calls the live service; staging and dev
# call its sandbox, which also answers anonymous read-only calls, so a personal dev-<name>
# stack (no stack file, hence no API key) still gets a working catalog.
CATALOG_SERVICE_URLS = {
    "production": "https://api.catalog-service.example.com",
    "staging": "https://sandbox.catalog-service.example.com",
    "dev": "https://sandbox.catalog-service.example.com",
}

_APP_FIELDS: dict[str, type] = {
    "replicas": int,
    "maxReplicas": int,
    "cpuRequest": str,
    "cpuLimit": str,
    "memoryRequest": str,
    "memoryLimit": str,
}

# Per kind and workload, in the shape of `marketplace:workloads` (a stack overrides fields).
APP_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "production": {
        "web": {"replicas": 3, "maxReplicas": 12, "cpuRequest": "100m", "cpuLimit": "500m",
                "memoryRequest": "128Mi", "memoryLimit": "256Mi"},
        "api": {"replicas": 3, "maxReplicas": 20, "cpuRequest": "250m", "cpuLimit": "1",
                "memoryRequest": "256Mi", "memoryLimit": "512Mi"},
    },
    "staging": {
        "web": {"replicas": 2, "maxReplicas": 4, "cpuRequest": "100m", "cpuLimit": "500m",
                "memoryRequest": "128Mi", "memoryLimit": "256Mi"},
        "api": {"replicas": 2, "maxReplicas": 6, "cpuRequest": "250m", "cpuLimit": "1",
                "memoryRequest": "256Mi", "memoryLimit": "512Mi"},
    },
    "dev": {
        "web": {"replicas": 1, "maxReplicas": 2, "cpuRequest": "50m", "cpuLimit": "250m",
                "memoryRequest": "64Mi", "memoryLimit": "128Mi"},
        "api": {"replicas": 1, "maxReplicas": 2, "cpuRequest": "100m", "cpuLimit": "500m",
                "memoryRequest": "128Mi", "memoryLimit": "256Mi"},
    },
}  # fmt: skip

GATEWAY_DEFAULTS = {
    "production": GatewaySettings(replicas=3, load_balancer_size_unit=2),
    "staging": GatewaySettings(replicas=2, load_balancer_size_unit=1),
    "dev": GatewaySettings(replicas=1, load_balancer_size_unit=1),
}

# Below this, draining one node (upgrades, autoscaler) takes the region's last pod with it.
_MIN_PRODUCTION_REPLICAS = 2

_CPU = re.compile(r"(?P<milli>[1-9][0-9]{0,8})m|(?P<cores>[0-9]{1,6}(?:\.[0-9]{1,3})?)", re.ASCII)
_MEMORY = re.compile(r"(?P<number>[1-9][0-9]{0,15})(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?", re.ASCII)
_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}  # fmt: skip
# Below 10m the kubelet cannot enforce a CPU limit (its CFS quota floor is 1 ms per 100 ms
# period, kubernetes pkg/kubelet/kuberuntime helpers_linux.go minQuotaPeriod) and silently
# raises it. Below 6 MiB a container cannot start (Docker's documented memory floor; runc
# OOM-kills the init process): a smaller quantity is a typo, such as "256" for 256Mi.
MIN_MILLICORES = 10
MIN_MEMORY_BYTES = 6 * 2**20


def cpu_millicores(quantity: str) -> int | None:
    match = _CPU.fullmatch(quantity)
    if not match:
        return None
    if match.group("milli"):
        return int(match.group("milli"))
    return round(float(match.group("cores")) * 1000) or None


def memory_bytes(quantity: str) -> int | None:
    match = _MEMORY.fullmatch(quantity)
    return int(match.group("number")) * _MEMORY_UNITS[match.group("unit") or ""] if match else None


@dataclass(frozen=True)
class NodePools:
    """The worker nodes the workloads run on: every droplet size the stack's clusters use,
    and how many nodes one cluster's pool may grow to."""

    sizes: tuple[str, ...]
    max_nodes: int


def _quantity(amount: int, memory: bool) -> str:
    return f"{amount / 2**20:.0f}Mi" if memory else f"{amount}m"


def _read_resources(reader: ConfigReader, key: str, given: Mapping[str, Any], nodes: NodePools) -> ComputeResources:
    measures: dict[str, tuple[Callable[[str], int | None], str]] = {
        "cpuRequest": (cpu_millicores, "a CPU quantity such as 250m or 1.5"),
        "cpuLimit": (cpu_millicores, "a CPU quantity such as 250m or 1.5"),
        "memoryRequest": (memory_bytes, "a memory quantity such as 256Mi or 1Gi"),
        "memoryLimit": (memory_bytes, "a memory quantity such as 256Mi or 1Gi"),
    }
    amounts: dict[str, int] = {}
    for field_name, (measure, what) in measures.items():
        amount = measure(given[field_name])
        if amount is None:
            raise reader.error(f"{key}.{field_name}", f"must be {what}, got {shown(given[field_name])}")
        memory = field_name.startswith("memory")
        floor = MIN_MEMORY_BYTES if memory else MIN_MILLICORES
        if amount < floor:
            raise reader.error(
                f"{key}.{field_name}", f"({given[field_name]}) is below {_quantity(floor, memory)}: no container runs on that"
            )
        for size in nodes.sizes:
            capacity = node_capacity(size)
            offered = capacity.memory_bytes if memory else capacity.millicores
            if amount > offered:
                raise reader.error(
                    f"{key}.{field_name}",
                    f"({given[field_name]}) does not fit on a {size} node, which offers pods "
                    f"{_quantity(offered, memory)}: no node could run this pod",
                )
        amounts[field_name] = amount
    for limit, request in (("cpuLimit", "cpuRequest"), ("memoryLimit", "memoryRequest")):
        if amounts[limit] < amounts[request]:
            raise reader.error(
                f"{key}.{limit}",
                f"({given[limit]}) must not be below {key}.{request} ({given[request]})",
            )
    return ComputeResources(
        cpu_request=given["cpuRequest"],
        cpu_limit=given["cpuLimit"],
        memory_request=given["memoryRequest"],
        memory_limit=given["memoryLimit"],
    )


def _check_pool_fits(reader: ConfigReader, apps: Mapping[str, AppSettings], nodes: NodePools) -> None:
    """The workloads' minimum replicas must fit in what one cluster's pool can grow to, or
    the autoscaler tops out with pods still pending."""
    for measure, memory in ((cpu_millicores, False), (memory_bytes, True)):
        needed = 0
        for app in apps.values():
            resources = app.resources
            needed += app.replicas * (measure(resources.memory_request if memory else resources.cpu_request) or 0)
        for size in nodes.sizes:
            capacity = node_capacity(size)
            offered = nodes.max_nodes * (capacity.memory_bytes if memory else capacity.millicores)
            if needed > offered:
                what = "memory" if memory else "CPU"
                raise reader.error(
                    "workloads",
                    f"the web and API replicas request {_quantity(needed, memory)} of {what}, more than "
                    f"{nodes.max_nodes} {size} node(s) (nodePool.maxNodes) offer pods ({_quantity(offered, memory)})",
                )


def _read_app(reader: ConfigReader, kind: str, app: str, image: str, given: Any, *, nodes: NodePools) -> AppSettings:
    key = f"workloads.{app}"
    values = {**APP_DEFAULTS[kind][app], **reader.nested_obj(key, given or {}, _APP_FIELDS)}
    floor = _MIN_PRODUCTION_REPLICAS if kind == "production" else 1
    if values["replicas"] < floor:
        where = " in production (one node drain must leave a pod serving)" if kind == "production" else ""
        raise reader.error(f"{key}.replicas", f"must be at least {floor}{where}, got {values['replicas']}")
    if values["maxReplicas"] < values["replicas"]:
        raise reader.error(
            f"{key}.maxReplicas",
            f"({values['maxReplicas']}) must not be below {key}.replicas ({values['replicas']})",
        )
    if values["maxReplicas"] > 100:
        raise reader.error(f"{key}.maxReplicas", f"must be at most 100, got {shown(values['maxReplicas'])}")
    problem = image_problem(image)
    if problem:
        raise reader.error(f"images.{app}", f"{shown(image)} {problem}")
    return AppSettings(
        image=image,
        replicas=values["replicas"],
        max_replicas=values["maxReplicas"],
        resources=_read_resources(reader, key, values, nodes),
    )


def _catalog_url_problem(url: str) -> str | None:
    problem = https_url_problem(url)
    if problem:
        return f"{problem}, got {shown(url)}"
    # The API's egress network policy (components/network_policies.py public_egress) admits public addresses only.
    problem = private_host_problem(str(urllib.parse.urlsplit(url).hostname))
    if problem:
        return f"must point at a public host (the API's egress policy blocks others), got {shown(url)}: {problem}"
    return None


def _read_catalog_url(reader: ConfigReader, kind: str) -> str:
    url = reader.string("catalogServiceUrl") or CATALOG_SERVICE_URLS[kind]
    problem = _catalog_url_problem(url)
    if problem:
        raise reader.error("catalogServiceUrl", problem)
    return url


def read_workloads(reader: ConfigReader, kind: str, registry_prefix: str, nodes: NodePools) -> WorkloadSettings:
    defaults = {app: f"{registry_prefix}/{image}" for app, image in DEFAULT_IMAGES.items()}
    images = {**defaults, **(reader.obj("images", {"web": str, "api": str}) or {})}
    sizes = reader.obj("workloads", {"web": dict, "api": dict}) or {}
    web = _read_app(reader, kind, "web", images["web"].strip(), sizes.get("web"), nodes=nodes)
    api = _read_app(reader, kind, "api", images["api"].strip(), sizes.get("api"), nodes=nodes)
    _check_pool_fits(reader, {"web": web, "api": api}, nodes)

    default = GATEWAY_DEFAULTS[kind]
    given = reader.obj("gateway", {"replicas": int, "loadBalancerSizeUnit": int}) or {}
    gateway = GatewaySettings(
        replicas=given.get("replicas", default.replicas),
        load_balancer_size_unit=given.get("loadBalancerSizeUnit", default.load_balancer_size_unit),
    )
    if not 1 <= gateway.replicas <= 20:
        raise reader.error("gateway.replicas", f"must be between 1 and 20, got {gateway.replicas}")
    if not 1 <= gateway.load_balancer_size_unit <= 100:
        raise reader.error(
            "gateway.loadBalancerSizeUnit",
            f"must be between 1 and 100, got {gateway.load_balancer_size_unit}",
        )

    catalog_url = _read_catalog_url(reader, kind)
    api_key = reader.secret("catalogApiKey")
    if api_key is None and kind != "dev":
        raise reader.error(
            "catalogApiKey",
            f"is missing: {kind} calls the catalog service with its own key; set it with "
            f"pulumi config set --secret marketplace:catalogApiKey <key> -s {reader.stack}",
        )

    return WorkloadSettings(
        web=web,
        api=api,
        gateway=gateway,
        catalog_service_url=catalog_url,
        catalog_api_key=api_key,
    )
