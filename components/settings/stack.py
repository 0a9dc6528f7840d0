"""The settings of one stack: its kind, regions, names and ids, and every family's settings,
read in one pass by `parse_settings`.

Every `marketplace:*` value is read once, checked, and frozen into `StackSettings`, which
the components receive. Nothing else calls `pulumi.Config()`. A bad value stops the
program with a `ConfigError` that names the stack, the key and the problem, before any
resource is declared. Keys whose default depends on the stack kind are not declared in
Pulumi.yaml; their defaults live beside each family's dataclasses.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.regions import REGIONS
from components.settings.alerting import AlertingSettings, read_alerting
from components.settings.assets import AssetsSettings, read_assets
from components.settings.cluster import ClusterSettings, read_cluster, read_network_block, read_token, read_version
from components.settings.edge import EdgeSettings, read_edge
from components.settings.generations import Generation, read_generations, version_warnings
from components.settings.monitoring import MonitoringSettings, read_monitoring
from components.settings.reader import PROJECT, ConfigError, ConfigReader, Secret, shown
from components.settings.registry import RegistrySettings, check_images, read_registry
from components.settings.workloads import NodePools, WorkloadSettings, read_workloads


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
    monitoring: MonitoringSettings
    alerting: AlertingSettings
    edge: EdgeSettings
    registry: RegistrySettings
    # Per region, its cluster generations; a region the stack file declares none for runs
    # the single implicit `blue` one on the stack's version and node size.
    generations: dict[str, tuple[Generation, ...]] = field(default_factory=dict)
    # What the program tells the deployer without refusing (a minor nearing its end of life).
    warnings: tuple[str, ...] = ()

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name: two stacks never share a name."""
        return f"mkt-{self.stack}"

    @property
    def tags(self) -> tuple[str, ...]:
        return (PROJECT, f"{PROJECT}-{self.stack}", f"{PROJECT}-kind-{self.kind}")


@dataclass(frozen=True)
class ZoneStackSettings:
    """The settings of the `zone` stack: the Cloudflare zone whose zone-wide settings it owns."""

    project: str
    stack: str
    zone_name: str
    cloudflare_zone_id: str


DEFAULT_REGIONS = ("sfo3", "nyc3", "fra1", "blr1", "sgp1")
# The stack that owns the zone-wide settings every other stack relies on (components/edge.py
# ZoneTls). Deployed first: a new zone needs them before any catalog stack can pass its
# smoke tests.
ZONE_STACK = "zone"

# Per stack kind: the regions it runs in and the prefix of its public hostname.
REGION_DEFAULTS = {"production": DEFAULT_REGIONS, "staging": DEFAULT_REGIONS, "dev": ("nyc3",)}
HOSTNAME_PREFIXES = {"production": "", "staging": "staging.", "dev": "dev."}

_PERSONAL_STACK = re.compile(r"dev-([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)", re.ASCII)
_HEX32 = re.compile(r"[0-9a-f]{32}", re.ASCII)

# The origin certificate names the hostname as its subject's common name, and X.509 allows
# at most 64 characters there (RFC 5280 appendix A, ub-common-name).
MAX_COMMON_NAME = 64

# Providers whose resources the program declares on their default provider (no explicit
# `provider=`): a stack that disables their default provider could not be deployed
# (`pulumi up` stops at the first such resource). Kubernetes resources all name their
# cluster's provider, which is why every stack file disables the default one.
DEFAULT_PROVIDERS = ("digitalocean", "cloudflare", "tls")


def stack_kind(stack: str) -> tuple[str, str | None]:
    """(kind, personal owner) of a stack name; a ConfigError for any other name."""
    if stack in ("production", "staging", "dev"):
        return stack, None
    match = _PERSONAL_STACK.fullmatch(stack)
    if match:
        return "dev", match.group(1)
    raise ConfigError(
        stack,
        "pulumi:stack",
        "unknown stack kind: stacks are 'production', 'staging', 'dev' or a personal "
        "'dev-<name>' (lowercase letters, digits and hyphens, at most 40)",
    )


def _read_regions(reader: ConfigReader, default: tuple[str, ...]) -> tuple[str, ...]:
    regions = reader.string_list("regions", default)
    if not regions:
        raise reader.error("regions", "is empty: a stack needs at least one region")
    return reader.region_list("regions", regions, REGIONS, every_known=True)


def _check_default_providers(reader: ConfigReader) -> None:
    key = "pulumi:disable-default-providers"
    raw = reader.raw(key)
    if raw is None:
        return
    what_it_is = 'a list of provider names such as ["kubernetes"]'
    disabled = reader.json_value(key, raw, list, what_it_is)
    for name in disabled:
        if not isinstance(name, str) or not name:
            raise reader.error(key, f"must be {what_it_is}, got {shown(name)} in it")
        if name == "*" or name in DEFAULT_PROVIDERS:
            what = "every default provider" if name == "*" else f"the {name} default provider"
            raise reader.error(
                key,
                f"disables {what}, but the program declares its {', '.join(DEFAULT_PROVIDERS)} resources on "
                "their default providers, so pulumi up would stop at the first one; disable only kubernetes",
            )


def parse_settings(
    stack: str,
    values: Mapping[str, str],
    secret_keys: frozenset[str] = frozenset(),
    environ: Mapping[str, str] | None = None,
    today: datetime.date | None = None,
) -> StackSettings:
    """Pure parsing and validation: config values in, settings out. `today` decides which
    Kubernetes minors have reached their end of life (default: the real date)."""
    kind, owner = stack_kind(stack)
    reader = ConfigReader(stack, values, secret_keys)
    reader.check_namespaces()
    _check_default_providers(reader)

    regions = _read_regions(reader, REGION_DEFAULTS[kind])
    version = read_version(reader)

    zone_name = reader.dns_name("cloudflareZoneName", reader.required_string("cloudflareZoneName", "the Cloudflare zone"))
    domain = reader.dns_name("domain", reader.required_string("domain", "the catalog's public hostname"))
    derived = f"{owner}.dev.{domain}" if owner else f"{HOSTNAME_PREFIXES[kind]}{domain}"
    hostname = reader.dns_name("hostname", reader.string("hostname") or derived)
    if len(hostname) > MAX_COMMON_NAME:
        key = "hostname" if reader.string("hostname") else "domain"
        raise reader.error(
            key,
            f"the hostname {shown(hostname)} is longer than the {MAX_COMMON_NAME} characters "
            "the origin certificate's common name holds",
        )
    for key, name in (("domain", domain), ("hostname", hostname)):
        if name != zone_name and not name.endswith(f".{zone_name}"):
            raise reader.error(key, f"{shown(name)} is not inside the Cloudflare zone {shown(zone_name)}")

    ids = {key: _cloudflare_id(reader, key) for key in ("cloudflareAccountId", "cloudflareZoneId")}

    network_block = read_network_block(reader, kind, owner)
    cluster = read_cluster(reader, kind, version)
    assets = read_assets(reader, kind)
    generations = read_generations(reader, regions, version, cluster.node_pool.size)
    warnings = version_warnings(reader, generations, today or datetime.date.today())
    registry = read_registry(reader, kind, personal=owner is not None)
    node_sizes = {cluster.node_pool.size} | {g.node_size for region in generations.values() for g in region}
    workers = NodePools(tuple(sorted(node_sizes)), cluster.node_pool.max_nodes)
    workloads = read_workloads(reader, kind, registry.prefix, workers)
    check_images(reader, registry, {"web": workloads.web.image, "api": workloads.api.image})
    monitoring = read_monitoring(reader, kind, regions, cluster.control_plane_allow_list)
    alerting = read_alerting(reader, zone_name)
    edge = read_edge(
        reader, kind, regions, generations=generations, owner=owner, domain=domain, hostname=hostname, zone_name=zone_name
    )
    token = read_token(reader, os.environ if environ is None else environ)
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
        monitoring=monitoring,
        alerting=alerting,
        edge=edge,
        registry=registry,
        generations=generations,
        warnings=warnings,
    )


def _cloudflare_id(reader: ConfigReader, key: str) -> str:
    value = reader.required_string(key, "a Cloudflare id")
    if not _HEX32.fullmatch(value):
        raise reader.error(key, f"must be 32 lowercase hex digits, got {shown(value)}")
    return value


def parse_zone_settings(stack: str, values: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> ZoneStackSettings:
    """The zone stack reads the zone's name and id only. The project's declared defaults
    reach it like every stack, so keys it does not use are not refused."""
    reader = ConfigReader(stack, values, secret_keys)
    reader.check_namespaces()
    zone_name = reader.dns_name("cloudflareZoneName", reader.required_string("cloudflareZoneName", "the Cloudflare zone"))
    return ZoneStackSettings(PROJECT, stack, zone_name, _cloudflare_id(reader, "cloudflareZoneId"))


def _current_config(stack: str) -> tuple[dict[str, str], frozenset[str]]:
    """Every config value the engine gave this program, and which of them are secret.

    The SDK has no public call that lists config keys. The engine passes config one of two
    ways: `pulumi up` through the PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS variables, an
    in-process engine (the offline plan, the Automation API) with `set_all_config`. When
    the in-process map is set it is the whole config, and variables the caller's shell
    happens to hold are not read at all."""
    from pulumi.runtime import config as runtime_config

    in_process = runtime_config.CONFIG.get(None)
    if in_process is not None:
        return dict(in_process), frozenset(key for key in in_process if runtime_config.is_config_secret(key))
    try:
        values = runtime_config.get_config_env()
        secret_keys = runtime_config.get_config_secret_keys_env()
    except ValueError:
        raise ConfigError(stack, "PULUMI_CONFIG", "the engine's config variables are not valid JSON") from None
    if not isinstance(values, dict) or not isinstance(secret_keys, list):
        raise ConfigError(stack, "PULUMI_CONFIG", "the engine's config variables are not a JSON object and list")
    return {str(key): str(value) for key, value in values.items()}, frozenset(map(str, secret_keys))


def load_settings() -> StackSettings:
    """The settings of the stack this program runs for."""
    stack = pulumi.get_stack()
    values, secret_keys = _current_config(stack)
    return parse_settings(stack, values, secret_keys)


def load_zone_settings() -> ZoneStackSettings:
    stack = pulumi.get_stack()
    values, secret_keys = _current_config(stack)
    return parse_zone_settings(stack, values, secret_keys)
