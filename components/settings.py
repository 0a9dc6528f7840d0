"""Stack settings: the one place configuration is read and validated.

Every `marketplace:*` value is read once, checked, and frozen into `StackSettings`, which
the components receive. Nothing else calls `pulumi.Config()`. A bad value stops the
program with a `ConfigError` that names the stack, the key and the problem, before any
resource is declared.

The Pulumi CLI hands the program every value as a string (arrays and objects as JSON), after
applying the defaults declared in Pulumi.yaml. Keys whose default depends on the stack kind
are not declared there (see Pulumi.yaml); their defaults live in `KIND_DEFAULTS` below.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml

from components.network import MAX_BLOCKS
from components.regions import REGIONS

PROJECT = "marketplace"
PRICES_FILE = Path(__file__).resolve().parent.parent / "data" / "prices.yaml"

T = TypeVar("T")


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so `pulumi up` prints the message without a
    traceback, and the offline plan does the same."""

    def __init__(self, stack: str, key: str, problem: str) -> None:
        self.stack = stack
        self.key = key
        self.problem = problem
        super().__init__(f"stack '{stack}': config '{key}': {problem}")


@dataclass(frozen=True)
class Secret:
    """A secret config value. Its repr never shows the value; components wrap it with
    `pulumi.Output.secret` where they use it."""

    key: str
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Secret({self.key!r}, [secret])"

    def output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self.value)


@dataclass(frozen=True)
class NodePool:
    size: str
    min_nodes: int
    max_nodes: int


@dataclass(frozen=True)
class MaintenanceWindow:
    day: str
    start_time: str


@dataclass(frozen=True)
class ClusterSettings:
    version_prefix: str
    node_pool: NodePool
    ha_control_plane: bool
    surge_upgrade: bool
    maintenance: MaintenanceWindow
    control_plane_allow_list: tuple[str, ...]


@dataclass(frozen=True)
class AssetsSettings:
    region: str
    versioning: bool
    # Days a replaced or deleted object version is kept before the lifecycle rule expires it.
    noncurrent_version_days: int
    protect: bool
    cdn_ttl_seconds: int


@dataclass(frozen=True)
class Generation:
    """One cluster of a region. A region runs one generation, or two during an upgrade:
    `blue` and `green`, each a full copy of the regional cluster and what runs on it."""

    name: str  # blue | green
    index: int  # its address slot in components/network.py
    version_prefix: str
    node_size: str
    # Share of the region's traffic, relative to its sibling (Cloudflare origin weight).
    weight: float


GENERATION_NAMES = ("blue", "green")


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
class LogShipping:
    """An Elasticsearch endpoint that fluent-bit ships container logs to."""

    host: str
    port: int
    index: str
    tls: bool


@dataclass(frozen=True)
class WorkloadSettings:
    """The catalog workloads and platform services on every cluster (workloads issue)."""

    web: AppSettings
    api: AppSettings
    gateway: GatewaySettings
    catalog_service_url: str
    # None only for dev kinds: the API then calls the sandbox anonymously.
    catalog_api_key: Secret | None
    monitoring: bool
    # None: the Grafana chart generates one and keeps it in the cluster.
    grafana_admin_password: Secret | None
    log_shipping: LogShipping | None


@dataclass(frozen=True)
class HealthMonitor:
    """How Cloudflare probes each cluster's gateway (GET https://<hostname>/healthz)."""

    path: str
    expected_codes: str
    interval: int
    timeout: int
    retries: int
    consecutive_up: int
    consecutive_down: int

    @property
    def seconds_to_leave_rotation(self) -> int:
        """Worst case from a cluster failing to its pool being marked unhealthy: the failed
        probe rounds, each waiting out every retry's timeout."""
        return self.consecutive_down * self.interval + self.timeout * (self.retries + 1)

    @property
    def seconds_to_return(self) -> int:
        return self.consecutive_up * self.interval


@dataclass(frozen=True)
class EdgeSettings:
    """The Cloudflare edge in front of the regional clusters (edge issue)."""

    # False for personal dev-<name> stacks: a proxied DNS record to their one cluster
    # instead of a load balancer, monitor and pools.
    load_balanced: bool
    steering_policy: str
    fallback_region: str
    # Regions whose pool is disabled: no visitors, no probes (maintenance, failover drills).
    drained_regions: tuple[str, ...]
    session_affinity: str
    # Cloudflare region code -> regions in failover order; only with steering "geo".
    region_pools: tuple[tuple[str, tuple[str, ...]], ...]
    monitor: HealthMonitor
    notification_email: str | None
    origin_certificate_validity_days: int
    # Zone-wide TLS posture (SSL strict, authenticated origin pulls, HTTPS only): one
    # stack per zone owns it, production by default.
    manage_zone_settings: bool
    # Hosts of the advanced edge certificate this stack orders (empty: none), for a
    # hostname Universal SSL does not cover.
    edge_certificate_hosts: tuple[str, ...]
    protect: bool


@dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    kind: str  # production | staging | dev
    personal_owner: str | None  # "alice" for dev-alice
    regions: tuple[str, ...]
    domain: str
    hostname: str
    zone_name: str
    cloudflare_account_id: str
    cloudflare_zone_id: str
    network_block: int
    cluster: ClusterSettings
    assets: AssetsSettings
    kubernetes_api_token: Secret
    workloads: WorkloadSettings
    edge: EdgeSettings
    # Per region, its cluster generations; a region the stack file declares none for runs
    # the single implicit `blue` one on the stack's version and node size.
    generations: dict[str, tuple[Generation, ...]] = field(default_factory=dict)

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name: two stacks never share a name."""
        return f"mkt-{self.stack}"

    @property
    def tags(self) -> tuple[str, ...]:
        return (PROJECT, f"{PROJECT}-{self.stack}", f"{PROJECT}-kind-{self.kind}")


@dataclass(frozen=True)
class KindDefaults:
    regions: tuple[str, ...]
    node_pool: NodePool
    ha_control_plane: bool
    maintenance: MaintenanceWindow
    network_block: int
    hostname_prefix: str
    assets_versioning: bool
    assets_protect: bool


ALL_REGIONS = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")

KIND_DEFAULTS: dict[str, KindDefaults] = {
    "production": KindDefaults(
        regions=ALL_REGIONS,
        node_pool=NodePool("s-4vcpu-8gb", 3, 10),
        ha_control_plane=True,
        maintenance=MaintenanceWindow("sunday", "04:00"),
        network_block=0,
        hostname_prefix="",
        assets_versioning=True,
        assets_protect=True,
    ),
    "staging": KindDefaults(
        regions=ALL_REGIONS,
        node_pool=NodePool("s-2vcpu-4gb", 2, 4),
        ha_control_plane=False,
        maintenance=MaintenanceWindow("saturday", "04:00"),
        network_block=1,
        hostname_prefix="staging.",
        assets_versioning=True,
        assets_protect=False,
    ),
    "dev": KindDefaults(
        regions=("nyc3",),
        node_pool=NodePool("s-2vcpu-4gb", 1, 2),
        ha_control_plane=False,
        maintenance=MaintenanceWindow("any", "04:00"),
        network_block=2,
        hostname_prefix="dev.",
        assets_versioning=False,
        assets_protect=False,
    ),
}

# Personal stacks take network blocks 3..63, picked from the owner's name. Two owners can
# land on the same block; set `marketplace:networkBlock` in a personal stack's config
# (`pulumi config set`) to move one of them.
_FIRST_PERSONAL_BLOCK = 3

_PERSONAL_STACK = re.compile(r"^dev-([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)$")
_VERSION_PREFIX = re.compile(r"^1\.(\d{1,2})$")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = ("any", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TOKEN_ENV = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")


def stack_kind(stack: str) -> tuple[str, str | None]:
    """(kind, personal owner) of a stack name; a ConfigError for any other name."""
    if stack in ("production", "staging", "dev"):
        return stack, None
    match = _PERSONAL_STACK.match(stack)
    if match:
        return "dev", match.group(1)
    raise ConfigError(
        stack,
        "pulumi:stack",
        "unknown stack kind: stacks are 'production', 'staging', 'dev' or a personal "
        "'dev-<name>' (lowercase letters, digits and hyphens, at most 40)",
    )


def droplet_prices() -> dict[str, dict[str, Any]]:
    with PRICES_FILE.open(encoding="utf-8") as handle:
        prices: dict[str, Any] = yaml.safe_load(handle)
    return dict(prices["droplets"])


class ConfigReader:
    """Reads `marketplace:*` values (all strings, as the CLI passes them), parses and
    checks them, and remembers which keys it read, so that a key nobody reads (a typo)
    is reported instead of silently ignored."""

    def __init__(self, stack: str, values: Mapping[str, str], secret_keys: frozenset[str]) -> None:
        self.stack = stack
        self.values = dict(values)
        self.secret_keys = secret_keys
        self.read: set[str] = set()

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.stack, _qualified(key), problem)

    def raw(self, key: str) -> str | None:
        qualified = _qualified(key)
        self.read.add(qualified)
        return self.values.get(qualified)

    def _json(self, key: str, raw: str, expected: type, what: str) -> Any:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.error(key, f"must be {what}, got {raw!r}") from None
        if not isinstance(value, expected):
            raise self.error(key, f"must be {what}, got {raw!r}")
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        raw = self.raw(key)
        return default if raw is None else raw.strip()

    def required_string(self, key: str, what: str) -> str:
        value = self.string(key)
        if not value:
            raise self.error(
                key,
                f"is missing: this stack needs {what} (pulumi config set {_qualified(key)} <value> -s {self.stack})",
            )
        return value

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise self.error(key, f"must be true or false, got {raw!r}")

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise self.error(key, f"must be a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value}")
        return value

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.raw(key)
        if raw is None:
            return default
        value = self._json(key, raw, list, "a list of strings")
        if not all(isinstance(item, str) for item in value):
            raise self.error(key, f"must be a list of strings, got {raw!r}")
        return tuple(item.strip() for item in value)

    def obj(self, key: str, fields: Mapping[str, type]) -> dict[str, Any] | None:
        """An object with only the given fields, each of the given type. Missing fields
        are left out of the result (the caller applies defaults)."""
        raw = self.raw(key)
        if raw is None:
            return None
        value = self._json(key, raw, dict, "an object")
        for name, item in value.items():
            if name not in fields:
                raise self.error(f"{key}.{name}", _unknown(name, fields, "field"))
            expected = fields[name]
            # bool is an int in Python; an int field must not accept true/false.
            if not isinstance(item, expected) or (expected is int and isinstance(item, bool)):
                raise self.error(f"{key}.{name}", f"must be {_type_word(expected)}, got {item!r}")
        return dict(value)

    def secret(self, key: str) -> Secret | None:
        qualified = _qualified(key)
        raw = self.raw(key)
        if raw is None:
            return None
        if qualified not in self.secret_keys:
            raise self.error(
                key,
                f"is a secret but is stored in plain text: set it with pulumi config set --secret {qualified} -s {self.stack}",
            )
        return Secret(qualified, raw)

    def check_unread(self) -> None:
        known = sorted(self.read)
        for key in sorted(self.values):
            if key.startswith(f"{PROJECT}:") and key not in self.read:
                raise ConfigError(self.stack, key, _unknown(key, known, "key"))


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _unknown(name: str, known: Any, what: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {what}{hint}"


def _type_word(expected: type) -> str:
    return {int: "a whole number", str: "a string", bool: "true or false"}.get(expected, expected.__name__)


def _dns_name(reader: ConfigReader, key: str, value: str) -> str:
    labels = value.split(".")
    if value != value.lower() or len(labels) < 2 or not all(_DNS_LABEL.match(label) for label in labels):
        raise reader.error(key, f"must be a lowercase DNS name such as catalog.example.com, got {value!r}")
    return value


def _check_all(reader: ConfigReader, key: str, values: tuple[T, ...], check: Callable[[T], str | None]) -> None:
    for value in values:
        problem = check(value)
        if problem:
            raise reader.error(key, problem)


def _read_regions(reader: ConfigReader, default: tuple[str, ...]) -> tuple[str, ...]:
    regions = reader.string_list("regions", default)
    if not regions:
        raise reader.error("regions", "is empty: a stack needs at least one region")
    seen: set[str] = set()
    for region in regions:
        if region not in REGIONS:
            known = ", ".join(sorted(REGIONS))
            raise reader.error("regions", f"unknown region {region!r}; known regions: {known}")
        if region in seen:
            raise reader.error("regions", f"region {region!r} is listed twice")
        seen.add(region)
    return regions


def _read_node_pool(reader: ConfigReader, default: NodePool) -> NodePool:
    given = reader.obj("nodePool", {"size": str, "minNodes": int, "maxNodes": int}) or {}
    pool = NodePool(
        size=given.get("size", default.size),
        min_nodes=given.get("minNodes", default.min_nodes),
        max_nodes=given.get("maxNodes", default.max_nodes),
    )
    sizes = droplet_prices()
    if pool.size not in sizes:
        raise reader.error("nodePool.size", f"unknown droplet size {pool.size!r}; known sizes: {', '.join(sizes)}")
    if pool.min_nodes < 1:
        raise reader.error("nodePool.minNodes", f"must be at least 1, got {pool.min_nodes}")
    if pool.min_nodes > pool.max_nodes:
        raise reader.error("nodePool.minNodes", f"({pool.min_nodes}) must not be above nodePool.maxNodes ({pool.max_nodes})")
    if pool.max_nodes > 100:
        raise reader.error("nodePool.maxNodes", f"must be at most 100, got {pool.max_nodes}")
    return pool


def _read_maintenance(reader: ConfigReader, default: MaintenanceWindow) -> MaintenanceWindow:
    given = reader.obj("maintenanceWindow", {"day": str, "startTime": str}) or {}
    window = MaintenanceWindow(day=given.get("day", default.day), start_time=given.get("startTime", default.start_time))
    if window.day not in _DAYS:
        raise reader.error("maintenanceWindow.day", f"must be one of {', '.join(_DAYS)}, got {window.day!r}")
    if not _HH_MM.match(window.start_time):
        raise reader.error("maintenanceWindow.startTime", f"must be HH:MM (UTC), got {window.start_time!r}")
    return window


def _read_allow_list(reader: ConfigReader, kind: str) -> tuple[str, ...]:
    entries = reader.string_list("controlPlaneAllowList", ())
    if not entries:
        raise reader.error(
            "controlPlaneAllowList",
            "is empty: the control-plane firewall would shut out everyone, the deploy runner included",
        )

    def check(entry: str) -> str | None:
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            return f"{entry!r} is not an IP address or CIDR range"
        if network.prefixlen == 0 and kind == "production":
            return f"{entry!r} opens the Kubernetes API to the whole internet; production must list its networks"
        return None

    _check_all(reader, "controlPlaneAllowList", entries, check)
    return entries


def _read_token(reader: ConfigReader, environ: Mapping[str, str]) -> Secret:
    dedicated = reader.secret("kubernetesApiToken")
    if dedicated:
        return dedicated
    provider_token = reader.secret("digitalocean:token")
    if provider_token:
        return provider_token
    for variable in _TOKEN_ENV:
        if environ.get(variable):
            return Secret(variable, environ[variable])
    raise reader.error(
        "digitalocean:token",
        "no DigitalOcean API token: export DIGITALOCEAN_TOKEN or run "
        f"pulumi config set --secret digitalocean:token <token> -s {reader.stack}",
    )


# Images every stack runs unless it pins its own (`marketplace:images`). Tags here are
# release tags that are never pushed twice; a stack may pin a digest instead.
DEFAULT_IMAGES = {
    "web": "registry.digitalocean.com/marketplace/catalog-web:1.0.0",
    "api": "registry.digitalocean.com/marketplace/catalog-api:1.0.0",
}

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

# Prometheus and Grafana cost a node's worth of memory: dev kinds opt in.
MONITORING_DEFAULTS = {"production": True, "staging": True, "dev": False}

# Below this, draining one node (upgrades, autoscaler) takes the region's last pod with it.
_MIN_PRODUCTION_REPLICAS = 2

_IMAGE_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_CPU = re.compile(r"^(?:(?P<milli>[1-9]\d*)m|(?P<cores>\d+(?:\.\d{1,3})?))$")
_MEMORY = re.compile(r"^(?P<number>[1-9]\d*)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}  # fmt: skip


def _nested_obj(reader: ConfigReader, key: str, value: Any, fields: Mapping[str, type]) -> dict[str, Any]:
    """Like ConfigReader.obj, one level down: `key` names the path (e.g. workloads.web)."""
    if not isinstance(value, dict):
        raise reader.error(key, f"must be an object, got {json.dumps(value)}")
    for name, item in value.items():
        if name not in fields:
            raise reader.error(f"{key}.{name}", _unknown(name, fields, "field"))
        expected = fields[name]
        if not isinstance(item, expected) or (expected is int and isinstance(item, bool)):
            raise reader.error(f"{key}.{name}", f"must be {_type_word(expected)}, got {item!r}")
    return dict(value)


def image_problem(reference: str) -> str | None:
    """Why an image reference is not pinned, or None. Pinned: an immutable tag or a digest."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    repository, tag = name.rsplit(":", 1) if ":" in last else (name, "")
    example = repository if _IMAGE_NAME.match(repository) else "registry.example.com/catalog-web"
    if not _IMAGE_NAME.match(repository) or (tag and not _IMAGE_TAG.match(tag)):
        return f"{reference!r} is not an image reference such as {example}:1.4.2"
    if digest and not _IMAGE_DIGEST.match(digest):
        return f"{reference!r} has a malformed digest: expected @sha256: and 64 lowercase hex digits"
    if tag.lower() == "latest":
        return f"{reference!r} uses the moving tag 'latest': pin a release tag ({example}:1.4.2) or a digest"
    if not tag and not digest:
        return (
            f"{reference!r} has no tag or digest, so every node may pull a different image: "
            f"pin a release tag ({example}:1.4.2) or a digest ({example}@sha256:<digest>)"
        )
    return None


def cpu_millicores(quantity: str) -> int | None:
    match = _CPU.match(quantity)
    if not match:
        return None
    if match.group("milli"):
        return int(match.group("milli"))
    return round(float(match.group("cores")) * 1000) or None


def memory_bytes(quantity: str) -> int | None:
    match = _MEMORY.match(quantity)
    return int(match.group("number")) * _MEMORY_UNITS[match.group("unit") or ""] if match else None


def _read_resources(reader: ConfigReader, key: str, given: Mapping[str, Any]) -> ComputeResources:
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
            raise reader.error(f"{key}.{field_name}", f"must be {what}, got {given[field_name]!r}")
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


def _read_app(reader: ConfigReader, kind: str, app: str, image: str, given: Any) -> AppSettings:
    key = f"workloads.{app}"
    values = {**APP_DEFAULTS[kind][app], **_nested_obj(reader, key, given or {}, _APP_FIELDS)}
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
        raise reader.error(f"{key}.maxReplicas", f"must be at most 100, got {values['maxReplicas']}")
    problem = image_problem(image)
    if problem:
        raise reader.error(f"images.{app}", problem)
    return AppSettings(
        image=image,
        replicas=values["replicas"],
        max_replicas=values["maxReplicas"],
        resources=_read_resources(reader, key, values),
    )


def _read_catalog_url(reader: ConfigReader, kind: str) -> str:
    url = reader.string("catalogServiceUrl") or CATALOG_SERVICE_URLS[kind]
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "https" or not parts.hostname or port == -1 or parts.username or parts.password:
        raise reader.error(
            "catalogServiceUrl",
            f"must be an https:// URL without credentials (the key is a secret of its own), got {url!r}",
        )
    return url


def _read_log_shipping(reader: ConfigReader) -> LogShipping | None:
    given = reader.obj("logShipping", {"host": str, "port": int, "index": str, "tls": bool})
    if given is None:
        return None
    host = given.get("host", "").strip()
    if not host:
        raise reader.error("logShipping.host", "is missing: name the Elasticsearch host logs are shipped to")
    port = given.get("port", 9200)
    if not 1 <= port <= 65535:
        raise reader.error("logShipping.port", f"must be between 1 and 65535, got {port}")
    index = given.get("index", "marketplace")
    if not re.match(r"^[a-z0-9][a-z0-9_.-]{0,254}$", index):
        raise reader.error(
            "logShipping.index",
            f"must be a lowercase Elasticsearch index name, got {index!r}",
        )
    return LogShipping(host=host, port=port, index=index, tls=given.get("tls", True))


def _read_workloads(reader: ConfigReader, kind: str) -> WorkloadSettings:
    images = {**DEFAULT_IMAGES, **(reader.obj("images", {"web": str, "api": str}) or {})}
    sizes = reader.obj("workloads", {"web": dict, "api": dict}) or {}
    web = _read_app(reader, kind, "web", images["web"].strip(), sizes.get("web"))
    api = _read_app(reader, kind, "api", images["api"].strip(), sizes.get("api"))

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
        monitoring=reader.boolean("monitoring", MONITORING_DEFAULTS[kind]),
        grafana_admin_password=reader.secret("grafanaAdminPassword"),
        log_shipping=_read_log_shipping(reader),
    )


# Cloudflare's traffic steering policies (the API's steering_policy values; "" is left out:
# it silently means "geo" or "off" depending on other fields).
STEERING_POLICIES = (
    "off",
    "geo",
    "random",
    "dynamic_latency",
    "proximity",
    "least_outstanding_requests",
    "least_connections",
)
# "header" affinity needs session_affinity_attributes.headers, which nothing here sets.
SESSION_AFFINITIES = ("none", "cookie", "ip_cookie")
# Cloudflare load-balancing region codes (region_pools keys, monitor check regions).
CLOUDFLARE_REGIONS = ("WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS")  # fmt: skip
# Validity periods the Origin CA issues (days).
ORIGIN_CERTIFICATE_VALIDITIES = (7, 30, 90, 365, 730, 1095, 5475)
HEALTH_PATH = "/healthz"

_EXPECTED_CODES = re.compile(r"^[1-5](\d\d|xx)$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# Keys only a load-balanced stack uses: a personal stack that sets one is told so.
_LOAD_BALANCER_KEYS = ("fallbackRegion", "drainedRegions", "regionPools", "healthMonitor", "notificationEmail")


def universal_ssl_covers(hostname: str, zone_name: str) -> bool:
    """Universal SSL certificates cover the zone apex and one level below it only."""
    return hostname == zone_name or hostname.count(".") == zone_name.count(".") + 1


def _read_monitor(reader: ConfigReader) -> HealthMonitor:
    given = (
        reader.obj(
            "healthMonitor",
            {
                "interval": int,
                "timeout": int,
                "retries": int,
                "consecutiveUp": int,
                "consecutiveDown": int,
                "expectedCodes": str,
            },
        )
        or {}
    )
    # Each bound is Cloudflare's: 10 s is the shortest interval of any plan (Enterprise;
    # Business 15, Pro 60), probes time out after at most 10 s, at most 5 retries.
    bounds = {
        "interval": (60, 10, 3600),
        "timeout": (5, 1, 10),
        "retries": (2, 0, 5),
        "consecutiveUp": (2, 1, 10),
        "consecutiveDown": (2, 1, 10),
    }
    values: dict[str, int] = {}
    for field_name, (default, low, high) in bounds.items():
        value = given.get(field_name, default)
        if not low <= value <= high:
            raise reader.error(f"healthMonitor.{field_name}", f"must be between {low} and {high}, got {value}")
        values[field_name] = value
    expected_codes = given.get("expectedCodes", "200")
    if not _EXPECTED_CODES.match(expected_codes):
        raise reader.error(
            "healthMonitor.expectedCodes",
            f"must be one HTTP status code or a range such as 2xx, got {expected_codes!r}",
        )
    if values["timeout"] >= values["interval"]:
        raise reader.error(
            "healthMonitor.timeout",
            f"({values['timeout']} s) must be shorter than healthMonitor.interval ({values['interval']} s)",
        )
    return HealthMonitor(
        path=HEALTH_PATH,
        expected_codes=expected_codes,
        interval=values["interval"],
        timeout=values["timeout"],
        retries=values["retries"],
        consecutive_up=values["consecutiveUp"],
        consecutive_down=values["consecutiveDown"],
    )


def _read_region_pools(reader: ConfigReader, regions: tuple[str, ...], steering: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = reader.raw("regionPools")
    if raw is None:
        if steering != "geo":
            return ()
        # Geo steering with nothing configured: each Cloudflare region is served by the
        # clusters located in it first, then by the rest in failover order.
        by_code: dict[str, list[str]] = {}
        for region in regions:
            by_code.setdefault(REGIONS[region].cloudflare_region, []).append(region)
        return tuple((code, (*local, *(r for r in regions if r not in local))) for code, local in by_code.items())
    if steering != "geo":
        raise reader.error(
            "regionPools",
            f"only steeringPolicy 'geo' uses region pools; with {steering!r} Cloudflare would ignore them",
        )
    given = reader._json("regionPools", raw, dict, "an object of Cloudflare region codes to lists of regions")
    pools: list[tuple[str, tuple[str, ...]]] = []
    for code, listed in given.items():
        key = f"regionPools.{code}"
        if code not in CLOUDFLARE_REGIONS:
            raise reader.error(
                key,
                f"{_unknown(code, CLOUDFLARE_REGIONS, 'Cloudflare region')}; known: {', '.join(CLOUDFLARE_REGIONS)}",
            )
        if not isinstance(listed, list) or not listed or not all(isinstance(item, str) for item in listed):
            raise reader.error(key, f"must be a non-empty list of regions, got {listed!r}")
        for region in listed:
            if region not in regions:
                raise reader.error(key, f"{region!r} is not one of this stack's regions ({', '.join(regions)})")
        if len(set(listed)) != len(listed):
            raise reader.error(key, f"lists a region twice: {listed!r}")
        pools.append((code, tuple(listed)))
    return tuple(pools)


def _edge_certificate_hosts(
    reader: ConfigReader, kind: str, *, owner: str | None, domain: str, hostname: str, zone_name: str
) -> tuple[str, ...]:
    # The shared dev stack's certificate also covers every personal stack's default
    # hostname (<name>.dev.<domain>), so personal stacks order none of their own.
    wildcard = kind == "dev" and owner is None and hostname == f"dev.{domain}"
    covered = universal_ssl_covers(hostname, zone_name) or (owner is not None and hostname == f"{owner}.dev.{domain}")
    if not reader.boolean("orderEdgeCertificate", not covered):
        return ()
    # An advanced certificate must include the zone apex.
    return (zone_name, hostname, *((f"*.{hostname}",) if wildcard else ()))


def _read_edge(
    reader: ConfigReader,
    kind: str,
    regions: tuple[str, ...],
    *,
    owner: str | None,
    domain: str,
    hostname: str,
    zone_name: str,
) -> EdgeSettings:
    personal = owner is not None
    if personal:
        for key in _LOAD_BALANCER_KEYS:
            if reader.raw(key) is not None:
                raise reader.error(
                    key,
                    "personal stacks have no load balancer (a proxied DNS record points at their one cluster): "
                    f"remove it with pulumi config rm {_qualified(key)} -s {reader.stack}",
                )
        if len(regions) > 1:
            raise reader.error(
                "regions",
                f"a personal stack serves from one cluster through a DNS record, without a load balancer; "
                f"list one region, got {', '.join(regions)}",
            )

    steering = reader.required_string("steeringPolicy", "a Cloudflare steering policy")
    if steering not in STEERING_POLICIES:
        raise reader.error(
            "steeringPolicy",
            f"unknown steering policy {steering!r}; Cloudflare's policies: {', '.join(STEERING_POLICIES)}",
        )

    drained = reader.string_list("drainedRegions", ())
    for region in drained:
        if region not in regions:
            raise reader.error("drainedRegions", f"{region!r} is not one of this stack's regions ({', '.join(regions)})")
    serving = [region for region in regions if region not in drained]
    if not serving:
        raise reader.error("drainedRegions", "drains every region: the load balancer would have no cluster to send visitors to")

    fallback = reader.string("fallbackRegion") or serving[0]
    if fallback not in regions:
        raise reader.error("fallbackRegion", f"{fallback!r} is not one of this stack's regions ({', '.join(regions)})")
    if fallback in drained:
        raise reader.error("fallbackRegion", f"{fallback!r} is drained (drainedRegions): the fallback must be a serving region")

    affinity = reader.required_string("sessionAffinity", "a session affinity")
    if affinity not in SESSION_AFFINITIES:
        raise reader.error("sessionAffinity", f"must be one of {', '.join(SESSION_AFFINITIES)}, got {affinity!r}")

    email = reader.string("notificationEmail") or None
    if email is not None and not _EMAIL.match(email):
        raise reader.error("notificationEmail", f"must be one email address, got {email!r}")

    validity = reader.integer("originCertificateValidityDays", 5475, 7, 5475)
    if validity not in ORIGIN_CERTIFICATE_VALIDITIES:
        choices = ", ".join(map(str, ORIGIN_CERTIFICATE_VALIDITIES))
        raise reader.error(
            "originCertificateValidityDays",
            f"must be one of {choices} (what the Origin CA issues), got {validity}",
        )

    return EdgeSettings(
        load_balanced=not personal,
        steering_policy=steering,
        fallback_region=fallback,
        drained_regions=drained,
        session_affinity=affinity,
        region_pools=_read_region_pools(reader, regions, steering),
        monitor=_read_monitor(reader),
        notification_email=email,
        origin_certificate_validity_days=validity,
        manage_zone_settings=reader.boolean("manageZoneSettings", kind == "production"),
        edge_certificate_hosts=_edge_certificate_hosts(
            reader, kind, owner=owner, domain=domain, hostname=hostname, zone_name=zone_name
        ),
        protect=kind == "production",
    )


def _minor(prefix: str) -> int:
    return int(prefix.split(".")[1])


def _read_generations(
    reader: ConfigReader, regions: tuple[str, ...], version_prefix: str, node_size: str
) -> dict[str, tuple[Generation, ...]]:
    declared = reader.obj("generations", dict.fromkeys(REGIONS, list)) or {}
    for region in declared:
        if region not in regions:
            raise reader.error(f"generations.{region}", f"region {region!r} is not in marketplace:regions")
    sizes = droplet_prices()
    result: dict[str, tuple[Generation, ...]] = {}
    for region in regions:
        entries = declared.get(region)
        if entries is None:
            result[region] = (Generation("blue", 0, version_prefix, node_size, 1.0),)
            continue
        key = f"generations.{region}"
        if not entries:
            raise reader.error(key, "is empty: a region needs at least one generation (remove the key for the default)")
        if len(entries) > len(GENERATION_NAMES):
            raise reader.error(key, f"declares {len(entries)} generations; a region runs at most two (blue and green)")
        generations = []
        for position, entry in enumerate(entries):
            where = f"{key}[{position}]"
            if not isinstance(entry, dict):
                raise reader.error(where, f"must be an object {{name, kubernetesVersion, weight}}, got {entry!r}")
            for field_name in entry:
                if field_name not in ("name", "kubernetesVersion", "weight", "nodeSize"):
                    raise reader.error(f"{where}.{field_name}", "unknown field")
            name = entry.get("name")
            if name not in GENERATION_NAMES:
                raise reader.error(f"{where}.name", f"must be 'blue' or 'green', got {name!r}")
            version = entry.get("kubernetesVersion", version_prefix)
            if not isinstance(version, str) or not _VERSION_PREFIX.match(version):
                problem = f'must be a minor version prefix such as "1.33", got {version!r}'
                raise reader.error(f"{where}.kubernetesVersion", problem)
            weight = entry.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
                raise reader.error(f"{where}.weight", f"must be a number from 0 to 1, got {weight!r}")
            size = entry.get("nodeSize", node_size)
            if size not in sizes:
                raise reader.error(f"{where}.nodeSize", f"unknown droplet size {size!r}")
            generations.append(Generation(name, GENERATION_NAMES.index(name), version, size, float(weight)))
        names = [g.name for g in generations]
        if len(set(names)) != len(names):
            raise reader.error(key, f"generation {names[0]!r} is declared twice")
        if not any(g.weight > 0 for g in generations):
            raise reader.error(key, "has no generation with weight above 0: the region would serve no traffic")
        if len(generations) == 2:
            older, newer = sorted(generations, key=lambda g: _minor(g.version_prefix))
            if _minor(newer.version_prefix) - _minor(older.version_prefix) > 1:
                raise reader.error(
                    key,
                    f"{newer.name} ({newer.version_prefix}) is more than one minor version from "
                    f"{older.name} ({older.version_prefix}); DOKS upgrades one minor at a time",
                )
        result[region] = tuple(sorted(generations, key=lambda g: g.index))
    return result


def parse_settings(
    stack: str,
    values: Mapping[str, str],
    secret_keys: frozenset[str] = frozenset(),
    environ: Mapping[str, str] | None = None,
) -> StackSettings:
    """Pure parsing and validation: config values in, settings out."""
    kind, owner = stack_kind(stack)
    defaults = KIND_DEFAULTS[kind]
    reader = ConfigReader(stack, values, secret_keys)

    regions = _read_regions(reader, defaults.regions)

    version_prefix = reader.required_string("kubernetesVersion", "a Kubernetes version prefix such as 1.33")
    if not _VERSION_PREFIX.match(version_prefix):
        raise reader.error("kubernetesVersion", f'must be a minor version prefix such as "1.33", got {version_prefix!r}')

    zone_name = _dns_name(reader, "cloudflareZoneName", reader.required_string("cloudflareZoneName", "the Cloudflare zone"))
    domain = _dns_name(reader, "domain", reader.required_string("domain", "the catalog's public hostname"))
    derived = f"{owner}.dev.{domain}" if owner else f"{defaults.hostname_prefix}{domain}"
    hostname = _dns_name(reader, "hostname", reader.string("hostname") or derived)
    for key, name in (("domain", domain), ("hostname", hostname)):
        if name != zone_name and not name.endswith(f".{zone_name}"):
            raise reader.error(key, f"{name!r} is not inside the Cloudflare zone {zone_name!r}")

    ids = {}
    for key in ("cloudflareAccountId", "cloudflareZoneId"):
        value = reader.required_string(key, "a Cloudflare id")
        if not _HEX32.match(value):
            raise reader.error(key, f"must be 32 lowercase hex digits, got {value!r}")
        ids[key] = value

    default_block = (
        _FIRST_PERSONAL_BLOCK + zlib.crc32(owner.encode()) % (MAX_BLOCKS - _FIRST_PERSONAL_BLOCK)
        if owner
        else defaults.network_block
    )
    network_block = reader.integer("networkBlock", default_block, 0, MAX_BLOCKS - 1)

    cluster = ClusterSettings(
        version_prefix=version_prefix,
        node_pool=_read_node_pool(reader, defaults.node_pool),
        ha_control_plane=reader.boolean("haControlPlane", defaults.ha_control_plane),
        surge_upgrade=reader.boolean("surgeUpgrade", True),
        maintenance=_read_maintenance(reader, defaults.maintenance),
        control_plane_allow_list=_read_allow_list(reader, kind),
    )

    spaces_region = reader.required_string("spacesRegion", "the Spaces region of the assets bucket")
    if spaces_region not in REGIONS or not REGIONS[spaces_region].spaces:
        offered = ", ".join(slug for slug, region in REGIONS.items() if region.spaces)
        raise reader.error("spacesRegion", f"Spaces is not offered in {spaces_region!r}; choose one of {offered}")
    assets = AssetsSettings(
        region=spaces_region,
        versioning=defaults.assets_versioning,
        noncurrent_version_days=30,
        protect=defaults.assets_protect,
        cdn_ttl_seconds=reader.integer("cdnTtlSeconds", 3600, 60, 604800),
    )

    generations = _read_generations(reader, regions, version_prefix, cluster.node_pool.size)
    workloads = _read_workloads(reader, kind)
    edge = _read_edge(reader, kind, regions, owner=owner, domain=domain, hostname=hostname, zone_name=zone_name)
    token = _read_token(reader, os.environ if environ is None else environ)
    reader.check_unread()

    return StackSettings(
        project=PROJECT,
        stack=stack,
        kind=kind,
        personal_owner=owner,
        regions=regions,
        domain=domain,
        hostname=hostname,
        zone_name=zone_name,
        cloudflare_account_id=ids["cloudflareAccountId"],
        cloudflare_zone_id=ids["cloudflareZoneId"],
        network_block=network_block,
        cluster=cluster,
        assets=assets,
        kubernetes_api_token=token,
        workloads=workloads,
        edge=edge,
        generations=generations,
    )


def _current_config() -> tuple[dict[str, str], frozenset[str]]:
    """Every config value the engine gave this program, and which of them are secret.

    The SDK has no public call that lists config keys; both ways the engine passes config
    (the in-process map and the PULUMI_CONFIG variable) are read here, once."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, str] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return values, frozenset(secret_keys)


def load_settings() -> StackSettings:
    """The settings of the stack this program runs for."""
    values, secret_keys = _current_config()
    return parse_settings(pulumi.get_stack(), values, secret_keys)
