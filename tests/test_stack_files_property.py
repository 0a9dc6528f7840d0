"""Generated stack files, drawn from the whole config surface: each one is either accepted
with sane settings or refused with one clean line that names the stack and the key, before
anything is declared. Never a traceback; never a bad value in an accepted plan.

Each example starts from a real stack file (production, staging, dev, or a personal stack
without one) and changes a few keys: to valid values, so that deep checks are reached, or
to hostile ones (wrong types, huge and non-finite numbers, Unicode digits and control
characters, injection-looking text, misspelled namespaces, secure values of the wrong
shape); some files are also mangled as text (duplicate keys, aliases, deep nesting,
encodings, YAML 1.1 spellings). Most examples stop at the settings, as `pulumi up` does
before declaring anything; a handful run the whole offline plan.

In the suite the examples are a fixed, derandomized set (profile `ci`), so CI runs the same
files every time. To hunt longer with fresh randomness:

    STACK_FILE_PROFILE=hunt STACK_FILE_EXAMPLES=5000 make unit ARGS=tests/test_stack_files_property.py
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import os
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, fields, is_dataclass
from fractions import Fraction
from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.regions import REGIONS
from components.settings import ZONE_STACK, ConfigError, StackSettings, parse_settings
from components.settings.alerting import EMAIL, SLACK_CHANNEL, SMARTHOST
from components.settings.cluster import droplet_prices
from components.settings.monitoring import opensearch_options
from components.settings.reader import ConfigReader
from components.settings.stack import parse_zone_settings
from components.settings.workloads import cpu_millicores, memory_bytes
from offline.engine import PlanError, reveal, run_plan, with_offline_credentials
from offline.stack_config import ROOT, StackConfigError, load_stack_config

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("STACK_FILE_EXAMPLES", "400")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "hunt",
    parent=settings.get_profile("ci"),
    derandomize=False,
    max_examples=int(os.environ.get("STACK_FILE_EXAMPLES", "2000")),
)
PROFILE = settings.get_profile(os.environ.get("STACK_FILE_PROFILE", "ci"))
FULL_PLANS = int(os.environ.get("STACK_FILE_PLANS", "6"))

STACKS = ("production", "staging", "dev", "dev-alice", ZONE_STACK)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
KNOWN_NAMESPACES = ("marketplace", "pulumi", "digitalocean", "cloudflare", "kubernetes", "tls")
SIZES = tuple(droplet_prices())
REGION_SLUGS = tuple(REGIONS)

# Substrings no accepted plan may carry into a resource or an output.
POISON = (
    "[OUTPUT]",
    "\u202e",
    "\u200b",
    "\x00",
    "\u0663",
    "$(reboot)",
    "${HOME}",
    "{{ .Values }}",
    "'; DROP",
    "\r",
    "169.254.169.254",
)

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "null",
        "true",
        "1.30",
        "-1",
        "0x10",
        "1e309",
        "catalog.example.com\n",
        "catalog\u0663.example.com",
        "\u0661\u0662\u0663",
        "evil\u202emoc.elpmaxe",
        "zero\u200bwidth",
        "nul\x00byte",
        "logs.example.com\n[OUTPUT]\n    Name http\n    Host attacker.example",
        "$(reboot)",
        "${HOME}",
        "{{ .Values }}",
        "'; DROP TABLE stacks; --",
        "a" * 300,
        "b" * 5000,
        "0.0.0.0/0",
        "::/0",
        "169.254.169.254",
        "https://169.254.169.254/metadata/v1",
        "NYC3",
        "nyc3\r",
    ]
)
HOSTILE_NUMBER = st.sampled_from(
    [0, -1, 1, 2**31, 2**63, 10**30, 10**400, 1.5, 1.3, float("inf"), float("-inf"), float("nan"), -0.0, True, False, None]
)
HOSTILE_SCALAR = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.text(max_size=12), st.integers(), st.floats(), st.binary(max_size=8))
HOSTILE_KEY = st.sampled_from(["size", "host", "", "x y", "\u0663", 1, True, None])
HOSTILE = st.one_of(
    HOSTILE_SCALAR,
    st.lists(HOSTILE_SCALAR, max_size=3),
    st.dictionaries(HOSTILE_KEY, HOSTILE_SCALAR, max_size=2),
    st.lists(st.lists(HOSTILE_SCALAR, max_size=2), max_size=2),
)


def _cidr(version: Literal[4, 6]) -> st.SearchStrategy[str]:
    bits = 32 if version == 4 else 128
    return st.builds(
        lambda address, prefix: str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)),
        st.ip_addresses(v=version),
        st.integers(0, bits),
    )


LABEL = st.sampled_from(["catalog", "shop", "dev", "a" * 63, "a" * 64, "xn--bcher-kva", "-bad", "UPPER", "1", "x_y"])
NAME = st.lists(LABEL, min_size=1, max_size=5).map(".".join)
DOMAIN = st.one_of(NAME.map(lambda name: f"{name}.example.com"), NAME)
QUANTITY_CPU = st.sampled_from(["50m", "250m", "1", "10m", "1.5", "2", "4", "16", "1000", "1m", "9m", "0.001", "100m\n"])
QUANTITY_MEMORY = st.sampled_from(["64Mi", "256Mi", "1Gi", "6Mi", "2Gi", "5Gi", "7Gi", "1Ti", "1", "5Mi", "256Mi\n", "128M"])
IMAGE = st.sampled_from(
    [
        "registry.digitalocean.com/marketplace/catalog-web:1.2.3",
        "registry.example.com:5000/catalog-api@sha256:" + "a" * 64,
        "registry.example.com/catalog-web:latest",
        "registry.example.com/catalog-web",
        "registry.example.com:\u0665\u0660\u0660\u0660/catalog-api:1.0.0",
        "Registry.Example.com/Catalog:1.0",
    ]
)
SECURE = st.one_of(
    st.just({"secure": "v1:cGxhY2Vob2xkZXI=:Y2lwaGVydGV4dA=="}),
    st.builds(lambda value: {"secure": value}, st.one_of(st.just(""), HOSTILE_NUMBER, st.lists(st.text(max_size=4)))),
    st.just({"secure": "v1:AAAA", "other": 1}),
    HOSTILE_TEXT,
)
VERSIONS = [
    "1.36.1-do.0",
    "1.35.6-do.0",
    "1.37.1-do.0",
    "1.33.9-do.3",
    "1.36",
    "1.99.0-do.0",
    1.3,
    "1.3\u0666.1-do.0",
    "1.36.1-do.0\n",
]
STRAY_FIELD = st.builds(lambda key, value: {key: value}, st.sampled_from(["sise", "Size", "replica", "host "]), HOSTILE_SCALAR)


def surface(hostile: bool) -> dict[str, st.SearchStrategy[Any]]:
    """Every key a stack may set, with values that are mostly meaningful (some near misses);
    `hostile` mixes in values of any type and shape, and stray fields in objects.
    test_the_generator_covers_every_key_the_settings_read keeps this list complete."""

    def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(valid, valid, HOSTILE) if hostile else valid

    def obj(**fields_: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        optional = {name: maybe(strategy) for name, strategy in fields_.items()}
        stray = st.one_of(st.just({}), STRAY_FIELD) if hostile else st.just({})
        return st.builds(lambda chosen, extra: {**chosen, **extra}, st.fixed_dictionaries({}, optional=optional), stray)

    app = obj(
        replicas=st.integers(0, 30),
        maxReplicas=st.integers(0, 120),
        cpuRequest=QUANTITY_CPU,
        cpuLimit=QUANTITY_CPU,
        memoryRequest=QUANTITY_MEMORY,
        memoryLimit=QUANTITY_MEMORY,
    )
    generation = obj(
        name=st.sampled_from(["blue", "green", "red"]),
        weight=st.sampled_from([1, 0.5, 0, 1.5, "0.5"]),
        kubernetesVersion=st.sampled_from(VERSIONS),
        nodeSize=st.one_of(st.sampled_from(SIZES), st.lists(st.sampled_from(SIZES), max_size=2)),
    )
    keys: dict[str, st.SearchStrategy[Any]] = {
        "marketplace:regions": st.lists(st.sampled_from([*REGION_SLUGS, "mars1"]), max_size=6),
        "marketplace:kubernetesVersion": st.sampled_from(VERSIONS),
        "marketplace:containerRegistry": st.sampled_from(["marketplace", "acme-catalog", "Marketplace", "a" * 70, "-x"]),
        "marketplace:ownsContainerRegistry": st.sampled_from([False, True, "yes"]),
        "marketplace:imagePullSecret": SECURE,
        "marketplace:domain": DOMAIN,
        "marketplace:hostname": DOMAIN,
        "marketplace:cloudflareZoneName": st.sampled_from(["example.com", "example.org", "com"]),
        "marketplace:cloudflareAccountId": st.sampled_from(
            ["0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "x"]
        ),
        "marketplace:cloudflareZoneId": st.sampled_from(
            ["fedcba9876543210fedcba9876543210", "fedcba9876543210fedcba9876543210\n"]
        ),
        "marketplace:networkBlock": st.integers(-1, 65),
        "marketplace:nodePool": obj(
            size=st.sampled_from([*SIZES, "s-64vcpu-1tb"]), minNodes=st.integers(0, 12), maxNodes=st.integers(0, 120)
        ),
        "marketplace:haControlPlane": st.sampled_from([True, False, "true", "yes"]),
        "marketplace:surgeUpgrade": st.sampled_from([True, False, "false", "on"]),
        "marketplace:maintenanceWindow": obj(
            day=st.sampled_from(["any", "sunday", "someday"]), startTime=st.sampled_from(["04:00", "24:00", "0\u0664:00", "4:00"])
        ),
        "marketplace:controlPlaneAllowList": st.lists(st.one_of(_cidr(4), _cidr(4), _cidr(6), HOSTILE_TEXT), max_size=4),
        "marketplace:spacesRegion": st.sampled_from([*REGION_SLUGS, "tor1"]),
        "marketplace:cdnTtlSeconds": st.sampled_from([60, 600, 3600, 59, 604801]),
        "marketplace:generations": st.dictionaries(
            st.sampled_from(["nyc3", "fra1", "syd1"]), st.lists(generation, max_size=3), max_size=2
        ),
        "marketplace:images": obj(web=IMAGE, api=IMAGE),
        "marketplace:workloads": obj(web=app, api=app),
        "marketplace:gateway": obj(replicas=st.integers(0, 25), loadBalancerSizeUnit=st.integers(0, 120)),
        "marketplace:catalogServiceUrl": st.sampled_from(
            [
                "https://api.catalog-service.example.com",
                "https://api.catalog-service.example.com:0",
                "https://api.catalog-service.example.com:8443/v2",
                "http://api.catalog-service.example.com",
                "https://user:pw@api.catalog-service.example.com",
                "https://10.0.0.5",
                "https://[fd00::1]",
                "https://api.catalog service.example.com",
                "https://api.exa\nmple.com",
                "https://93.184.215.14",
            ]
        ),
        "marketplace:catalogApiKey": SECURE,
        "marketplace:kubernetesApiToken": SECURE,
        "marketplace:grafanaAdminPassword": SECURE,
        "digitalocean:token": SECURE,
        "marketplace:monitoring": st.sampled_from([True, False, "yes"]),
        "marketplace:logShipping": obj(
            host=st.sampled_from(
                ["logs.example.com", "10.0.0.9", "elasticsearch", "logs example.com", "logs.example.com\n[OUTPUT]"]
            ),
            port=st.integers(0, 70000),
            index=st.sampled_from(["catalog", "Catalog", "catalog\n", "-x"]),
            tls=st.sampled_from([True, False, "true"]),
        ),
        "marketplace:observabilityRegion": st.sampled_from([*REGION_SLUGS, "mars1", "NYC3", "nyc3\n"]),
        "marketplace:logStore": obj(
            enabled=st.sampled_from([True, False, "yes"]),
            size=st.sampled_from(["db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "gd-2vcpu-8gb", "s-1vcpu-1gb", "db-s-1vcpu-2gb\n"]),
            nodeCount=st.sampled_from([1, 3, 6, 2, 0]),
            retentionDays=st.integers(-1, 400),
            operatorNetworks=st.lists(
                st.sampled_from(["203.0.113.0/24", "0.0.0.0/0", "2001:db8::/32", "10.0.0.0/33", "1.2.3.4\n"]), max_size=3
            ),
        ),
        "marketplace:alerting": obj(
            email=st.sampled_from(["oncall@example.com", "ops@exa\u0663mple.com", "a@b", "x@y.com\nBcc: z@w.com"]),
            slackChannel=st.sampled_from(["#catalog-alerts", "catalog alerts", "#alerts\n"]),
            latencyThresholdMs=st.integers(0, 40000),
            smtp=obj(
                smarthost=st.sampled_from(
                    ["smtp.example.com:587", "smtp.example.com", "smtp.example.com:99999", "smtp.exa mple.com:25"]
                ),
                username=st.sampled_from(["alertmanager", "a b", "user\n"]),
                requireTls=st.sampled_from([True, False, "no"]),
                **{"from": st.sampled_from(["am@example.com", "am@exa mple.com"])},
            ),
        ),
        "marketplace:alertWebhookUrl": SECURE,
        "marketplace:alertSmtpPassword": SECURE,
        "marketplace:steeringPolicy": st.sampled_from(["dynamic_latency", "geo", "off", "round_robin", ""]),
        "marketplace:sessionAffinity": st.sampled_from(["none", "cookie", "header"]),
        "marketplace:fallbackRegion": st.sampled_from([*REGION_SLUGS, "syd1"]),
        "marketplace:drainedRegions": st.lists(st.sampled_from(REGION_SLUGS), max_size=5),
        "marketplace:regionPools": st.dictionaries(
            st.sampled_from(["WNAM", "ENAM", "WEU", "MARS"]), st.lists(st.sampled_from(REGION_SLUGS), max_size=3), max_size=2
        ),
        "marketplace:healthMonitor": obj(
            interval=st.integers(0, 4000),
            timeout=st.integers(0, 12),
            retries=st.integers(-1, 6),
            consecutiveUp=st.integers(0, 11),
            consecutiveDown=st.integers(0, 11),
            expectedCodes=st.sampled_from(["200", "2xx", "200\n", "\u0662\u0660\u0660", "600"]),
        ),
        "marketplace:notificationEmail": st.sampled_from(["ops@example.com", "ops@exa\u0663mple.com", "a@b", "x@y.com, z@w.com"]),
        "marketplace:originCertificateValidityDays": st.sampled_from([7, 90, 5475, 8, 10**30]),
        "marketplace:cloudflarePlan": st.sampled_from(["pro", "business", "enterprise", "free", "Pro", "platinum"]),
        "marketplace:cloudflareTrafficSteering": st.sampled_from([True, False, "yes"]),
        "marketplace:cloudflareQuotas": obj(
            loadBalancers=st.integers(0, 30), pools=st.integers(0, 30), endpoints=st.integers(0, 30)
        ),
        "marketplace:orderEdgeCertificate": st.sampled_from([True, False, "0"]),
        "pulumi:disable-default-providers": st.lists(
            st.sampled_from(["kubernetes", "cloudflare", "tls", "digitalocean", "*", "random"]), max_size=3
        ),
    }
    return {key: maybe(strategy) for key, strategy in keys.items()}


SURFACE = surface(hostile=True)
PLAUSIBLE = surface(hostile=False)

# Keys nobody reads: misspelled namespaces and names, keys that are not text.
STRAY_KEYS = st.sampled_from(
    ["marketplac:regions", "Marketplace:nodePool", "marketplace:nodepool", "regions", "aws:region", 12, True, None]
)


@functools.cache
def _real_config(stack: str) -> dict[Any, Any]:
    path = ROOT / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) if path.exists() else None
    return dict((document or {}).get("config") or {})


def _base(stack: str) -> dict[Any, Any]:
    return copy.deepcopy(_real_config(stack))


# Text-level mangling: what YAML itself allows a stack file to say.
def _duplicate_first_key(text: str) -> str:
    lines = text.splitlines()
    keyed = [line for line in lines if line.startswith("  ") and not line.startswith("   ") and ":" in line]
    return text + (keyed[0] + "\n" if keyed else "")


TRICKS = {
    "none": lambda text: text,
    "duplicate key": _duplicate_first_key,
    "utf-16 with a byte-order mark": lambda text: ("\ufeff" + text).encode("utf-16-le"),
    "utf-16 without one": lambda text: text.encode("utf-16-be"),
    "invalid utf-8": lambda text: text.encode() + b"  marketplace:domain: \xc3\x28\n",
    "deep nesting": lambda text: text + "  marketplace:drainedRegions: " + "[" * 500 + "]" * 500 + "\n",
    "alias bomb": lambda text: "\n".join(
        [f"l0: &l0 [{', '.join(['x'] * 9)}]"]
        + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 8)]
        + [text.rstrip("\n"), "  marketplace:drainedRegions: *l7", ""]
    ),
    "alias that contains itself": lambda text: text + "  marketplace:drainedRegions: &me [*me]\n",
    "unquoted YAML 1.1 words": lambda text: (
        text + "  marketplace:maintenanceWindow: {day: sunday, startTime: 04:00}\n  marketplace:monitoring: yes\n"
    ),
    "date and binary": lambda text: text + "  marketplace:nodePool: {size: !!binary czJ2Y3B1, minNodes: 2026-12-06}\n",
    "unquoted 1.30": lambda text: (
        text
        + "  marketplace:kubernetesVersion: 1.30\n  marketplace:generations: {nyc3: [{name: blue, weight: 1, kubernetesVersion: 1.30}]}\n"
    ),
    "control character": lambda text: text + '  marketplace:domain: "catalog\\x07.example.com"\n',
}


@st.composite
def stack_files(draw: st.DrawFn, stacks: tuple[str, ...] = STACKS, hostile: bool = True) -> tuple[str, str | bytes]:
    """(stack, the content of its stack file). Without `hostile`: values of the right shape
    only (some still wrong), as text, so that most files get through to the plan."""
    stack = draw(st.sampled_from(stacks))
    config = _base(stack)
    keys = SURFACE if hostile else PLAUSIBLE
    for key in draw(st.lists(st.sampled_from(sorted(keys)), min_size=1, max_size=3 if hostile else 1, unique=True)):
        if key in config and draw(st.integers(0, 9)) == 0:
            del config[key]
        else:
            config[key] = draw(keys[key])
    if hostile and draw(st.integers(0, 9)) == 0:
        config[draw(STRAY_KEYS)] = draw(HOSTILE_SCALAR)
    text = yaml.dump({"config": config}, Dumper=DUMPER, sort_keys=False, allow_unicode=draw(st.booleans()))
    trick = draw(st.sampled_from(sorted(TRICKS))) if hostile and draw(st.integers(0, 5)) == 0 else "none"
    return stack, TRICKS[trick](text)


MESSAGE_NAMES = re.compile(
    r"config '[^']+'|configuration key '[^']+'|config key \S+|configuration value '[^']+'|Pulumi\.[\w-]+\.yaml"
)


def assert_clean_refusal(stack: str, message: str) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith((f"stack '{stack}'", f"Stack '{stack}'")), message
    assert MESSAGE_NAMES.search(message), f"names no key: {message}"
    assert "Traceback" not in message and len(message) < 700, message


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if is_dataclass(value) and not isinstance(value, type):
        return [s for item in fields(value) for s in _strings(getattr(value, item.name))]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def _share(entries: tuple[str, ...]) -> Fraction:
    networks = [ipaddress.IPv4Network(entry) for entry in entries]
    return Fraction(sum(n.num_addresses for n in ipaddress.collapse_addresses(networks)), 2**32)


def assert_plain(accepted: Any, values: dict[str, str]) -> None:
    """Every value accepted is printable ASCII, and no key was silently ignored."""
    for text in _strings(accepted):
        assert text.isascii() and text.isprintable(), f"unprintable or non-ASCII value accepted: {text!r}"
    for key in values:
        assert key.split(":", 1)[0] in KNOWN_NAMESPACES, f"key {key!r} silently ignored"


def assert_sane(accepted: StackSettings, values: dict[str, str]) -> None:
    """What an accepted stack guarantees, checked independently of how the settings check it."""
    assert_plain(accepted, values)
    disabled = json.loads(values.get("pulumi:disable-default-providers") or "[]")
    assert all(isinstance(name, str) and name and name not in ("*", "cloudflare", "tls", "digitalocean") for name in disabled)
    for name in (accepted.domain, accepted.hostname, accepted.zone_name):
        assert len(name) <= 253 and all(1 <= len(label) <= 63 for label in name.split("."))
    assert len(accepted.hostname) <= 64
    allow_list = accepted.cluster.control_plane_allow_list
    assert all(ipaddress.ip_network(entry).version == 4 for entry in allow_list)
    if accepted.kind == "production":
        assert _share(allow_list) < Fraction(1, 256), allow_list
    reserved = {0: "production", 1: "staging", 2: "dev"}
    holder = reserved.get(accepted.network_block)
    assert holder is None or (holder == accepted.kind and accepted.personal_owner is None)
    workloads = accepted.workloads
    url = workloads.catalog_service_url
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https" and parts.port != 0 and parts.hostname and " " not in url, url
    if re.fullmatch(r"[0-9.]+|[0-9a-f:]+", parts.hostname):
        assert ipaddress.ip_address(parts.hostname).is_global, url
    sizes = {accepted.cluster.node_pool.size} | {g.node_size for gens in accepted.generations.values() for g in gens}
    assert sizes <= set(SIZES)
    smallest = min(sizes, key=lambda size: droplet_prices()[size]["memoryGiB"])
    for app in (workloads.web, workloads.api):
        resources = app.resources
        cpu = (cpu_millicores(resources.cpu_request), cpu_millicores(resources.cpu_limit))
        memory = (memory_bytes(resources.memory_request), memory_bytes(resources.memory_limit))
        assert None not in cpu and None not in memory
        assert 10 <= cpu[0] <= cpu[1] <= 1000 * droplet_prices()[smallest]["vcpu"]  # type: ignore[operator]
        assert 6 * 2**20 <= memory[0] <= memory[1] < droplet_prices()[smallest]["memoryGiB"] * 2**30  # type: ignore[operator]
    monitoring, alerting = accepted.monitoring, accepted.alerting
    assert monitoring.hub_region in accepted.regions
    store = monitoring.log_store
    assert store.size in opensearch_options()["layouts"][store.node_count] and 1 <= store.retention_days <= 365
    assert all(ipaddress.ip_network(entry).version == 4 for entry in store.operator_networks)
    assert accepted.kind != "production" or all(ipaddress.ip_network(entry).prefixlen > 0 for entry in store.operator_networks)
    # Whatever reaches Alertmanager's configuration is one ASCII token.
    assert (
        EMAIL.fullmatch(alerting.email) and EMAIL.fullmatch(alerting.smtp.sender) and SMARTHOST.fullmatch(alerting.smtp.smarthost)
    )
    assert alerting.slack_channel is None or SLACK_CHANNEL.fullmatch(alerting.slack_channel)


@dataclass(frozen=True)
class Accepted:
    settings: Any  # StackSettings, or ZoneStackSettings for the zone stack
    values: dict[str, str]  # the config they came from


def settle(stack: str, text: str | bytes) -> Accepted | str:
    """What a stack file yields, or the one message it is refused with. Secrets get
    stand-ins and the token comes from the stack, as in run_plan."""
    try:
        config = with_offline_credentials(load_stack_config(stack, stack_text=text))
        if stack == ZONE_STACK:
            return Accepted(parse_zone_settings(stack, config.values, config.secret_keys), config.values)
        return Accepted(parse_settings(stack, config.values, config.secret_keys, environ={}), config.values)
    except (StackConfigError, ConfigError) as refused:
        return str(refused)


def test_every_generated_stack_file_is_settled_or_refused_cleanly():
    outcomes: Counter[str] = Counter()

    @PROFILE
    @given(stack_files())
    def settle_each(case: tuple[str, str | bytes]) -> None:
        stack, text = case
        outcome = settle(stack, text)
        if isinstance(outcome, str):
            assert_clean_refusal(stack, outcome)
            outcomes["refused"] += 1
        elif isinstance(outcome.settings, StackSettings):
            assert_sane(outcome.settings, outcome.values)
            outcomes["accepted"] += 1
        else:
            assert_plain(outcome.settings, outcome.values)
            outcomes["accepted"] += 1

    settle_each()
    # Both branches ran: a generator (or a settings change) that makes every file refused, or
    # every file accepted, would otherwise pass on checks that never ran.
    assert outcomes["accepted"] and outcomes["refused"], dict(outcomes)


def _plan_strings(plan: Any) -> list[str]:
    return [s for resource in plan.resources for s in _strings(reveal(resource.inputs))] + _strings(reveal(plan.outputs))


# Dev kinds only: their plans take a tenth of production's, and the settings of every kind
# are what the test above covers.
def test_a_handful_of_generated_stack_files_run_the_whole_offline_plan():
    planned: list[int] = []

    @settings(PROFILE, max_examples=FULL_PLANS)
    @given(stack_files(stacks=("dev", "dev-alice"), hostile=False))
    def plan_each(case: tuple[str, str | bytes]) -> None:
        stack, text = case
        assert isinstance(text, str)
        try:
            plan = run_plan(stack, stack_text=text)
        except PlanError as refused:
            assert_clean_refusal(stack, str(refused))
            assert refused.declared == 0, f"{refused.declared} resources declared before: {refused}"
            return
        for text_value in _plan_strings(plan):
            assert text_value.isascii(), f"non-ASCII value reached the plan: {text_value[:80]!r}"
            assert not any(poison in text_value for poison in POISON), f"hostile value reached the plan: {text_value[:200]!r}"
        planned.append(len(plan.resources))

    plan_each()
    # At least one file got through to a whole plan, whose values were then checked.
    assert planned and min(planned) > 0, planned


def test_the_generator_covers_every_key_the_settings_read(monkeypatch: Any):
    read: set[str] = set()
    check_unread = ConfigReader.check_unread

    def recording(reader: ConfigReader) -> None:
        read.update(reader.read)
        check_unread(reader)

    monkeypatch.setattr(ConfigReader, "check_unread", recording)
    for stack in STACKS:
        if stack != ZONE_STACK:  # the zone stack reads two of the project's keys, and no others
            config = load_stack_config(stack, overrides={"marketplace:catalogApiKey": {"secure": "v1:x"}})
            parse_settings(stack, config.values, config.secret_keys, environ={"DIGITALOCEAN_TOKEN": "x"})
    assert read, "nothing recorded"
    assert read - set(SURFACE) == set(), "keys the settings read but the generator never writes"
