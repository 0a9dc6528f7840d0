"""`ops preflight --stack NAME`: what must hold before a real `pulumi preview` or `pulumi up`
can reach the clusters, checked in seconds, each failure one clear line.

- The control-plane firewall's allow-list (`marketplace:controlPlaneAllowList`) takes public
  IPv4 addresses or CIDRs only (digitalocean/openapi kubernetes/models/control_plane_firewall.yml):
  no IPv6 entry, no private range, and no documentation range (192.0.2.0/24, 198.51.100.0/24,
  203.0.113.0/24), which is the shipped placeholder.
- The runner's egress address is in that allow-list: otherwise every Kubernetes object of the
  deploy times out against the firewall. The address is `--egress-ip`, else `DEPLOY_EGRESS_IP`,
  else discovered by asking a public echo service. GitHub-hosted runners have no fixed
  egress: the deploy jobs run on a runner that has one (README: Deploying for real).
- No placeholder is left: the shipped Cloudflare account and zone ids, an example.com zone.
- With a DigitalOcean token in the environment (`DIGITALOCEAN_TOKEN`): it is valid and may
  read DOKS (kubernetes:read); pinned versions DigitalOcean no longer offers are named. With
  `--refresh` (a drift check), it may also fetch the credentials of the stack's existing
  clusters: on a refresh the provider fetches them anew once the stored ones have expired
  (7 days; terraform-provider-digitalocean resource_kubernetes_cluster.go, Read), which takes
  kubernetes:access_cluster on a token with write scope. Without `--refresh` a refusal there
  is a note.

The zone stack (`zone`) reaches no cluster: only its own placeholders are checked.

Exit status: 0 when every check passes, 1 when any fails, 2 when the checks cannot start (a
stack file the CLI would refuse, or a value of a shape the checks cannot read).

It imports no Pulumi or cloud SDK, so it runs before them in a second or two: the standard
library, and PyYAML to read the stack file exactly as the CLI would (offline/stack_config.py)
and the platform rules (components/platform.py).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.addresses import is_documentation_range, parse_network
from components.platform import platform_rules, value_problem
from offline.stack_config import ROOT, StackConfig, StackConfigError, load_stack_config

# The ids Pulumi.yaml ships: stand-ins until a team sets its own.
PLACEHOLDER_IDS = {
    "marketplace:cloudflareAccountId": "0123456789abcdef0123456789abcdef",
    "marketplace:cloudflareZoneId": "fedcba9876543210fedcba9876543210",
}
# The stack of the zone's settings (components/settings/stack.py ZONE_STACK): no cluster.
ZONE_STACK = "zone"
ZONE_KEYS = ("marketplace:cloudflareZoneId", "marketplace:cloudflareZoneName")
# RFC 2606: names that can never be a team's zone.
_RESERVED_ZONES = ("example.com", "example.net", "example.org")
# Services that answer with the caller's public IPv4 address as plain text.
ECHO_SERVICES = ("https://api.ipify.org", "https://checkip.amazonaws.com")
DIGITALOCEAN_API = "https://api.digitalocean.com/v2"
TIMEOUT_SECONDS = 5.0
CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"

# (status, body) of a GET; an OSError when there is no response at all.
Get = Callable[[str, Mapping[str, str]], tuple[int, bytes]]


@dataclass(frozen=True)
class Result:
    failures: list[str]
    notes: list[str]


def _get(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "marketplace-ops-preflight/1", **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status), bytes(response.read(1 << 20))
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read(1 << 16))


def allow_list_problems(entries: Sequence[str]) -> list[str]:
    """Why the allow-list cannot work for a real deploy (empty when it can): the platform
    rule the stack settings check, and no placeholder, which the settings let through for
    the offline plan."""
    rule = platform_rules().allowed(CLUSTER, "controlPlaneFirewall", "allowedAddresses", "[*]")
    problems = []
    for entry in entries:
        network = parse_network(entry)
        if network is None:
            problems.append(f"{entry!r} is not an IP address or CIDR range")
        elif is_documentation_range(network):
            problems.append(f"{entry} is a documentation range (RFC 5737), the shipped placeholder: list your runners' egress")
        elif problem := value_problem(rule, entry):
            problems.append(f"{problem}: the control-plane firewall takes public IPv4 addresses or CIDRs only")
    return problems


def placeholder_problems(values: Mapping[str, str], keys: Sequence[str] | None = None) -> list[str]:
    """The placeholders left among `keys` (default: all the program reads)."""
    wanted = set(keys or (*PLACEHOLDER_IDS, "marketplace:cloudflareZoneName", "marketplace:domain"))
    problems = [
        f"{key} is still the placeholder {value}: set your own (pulumi config set {key} <id>)"
        for key, value in PLACEHOLDER_IDS.items()
        if key in wanted and values.get(key) == value
    ]
    for key in ("marketplace:cloudflareZoneName", "marketplace:domain"):
        if key not in wanted:
            continue
        value = values.get(key, "")
        if any(value == zone or value.endswith(f".{zone}") for zone in _RESERVED_ZONES):
            problems.append(f"{key} is {value}, a reserved example name (RFC 2606): set your own")
    return problems


def discover_egress(get: Get) -> str:
    """This machine's public IPv4 address, as the first echo service that answers sees it."""
    reasons = []
    for url in ECHO_SERVICES:
        try:
            status, body = get(url, {})
        except OSError as error:
            reasons.append(f"{url}: {error}")
            continue
        text = body.decode(errors="replace").strip()
        try:
            if status == 200 and ipaddress.ip_address(text).version == 4:
                return text
        except ValueError:
            pass
        reasons.append(f"{url}: answered {status}")
    raise OSError("; ".join(reasons))


def egress_problem(egress: str, entries: Sequence[str]) -> str | None:
    address = ipaddress.ip_address(egress)
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return None
        except ValueError:
            continue
    return (
        f"this runner's egress address {egress} is not in marketplace:controlPlaneAllowList "
        f"({', '.join(entries) or 'empty'}): every Kubernetes call of the deploy would time out at the control-plane "
        "firewall; run the deploy on the runner with the static egress address, or add this one"
    )


def _api(get: Get, token: str, path: str) -> tuple[int, object]:
    status, body = get(f"{DIGITALOCEAN_API}{path}", {"Authorization": f"Bearer {token}"})
    try:
        return status, json.loads(body or b"{}")
    except json.JSONDecodeError:
        return status, {}


def token_problems(
    get: Get, token: str, stack: str, pinned: Sequence[str], *, refresh: bool = False
) -> tuple[list[str], list[str]]:
    """(failures, notes) of the token the Kubernetes providers authenticate with."""
    try:
        status, options = _api(get, token, "/kubernetes/options")
    except OSError as error:
        return [f"the DigitalOcean API does not answer: {error}"], []
    if status == 401:
        return ["DIGITALOCEAN_TOKEN is not a valid DigitalOcean API token (401): expired or revoked?"], []
    if status == 403:
        return ["DIGITALOCEAN_TOKEN may not read DOKS (403): it needs the kubernetes:read scope at least"], []
    if status != 200:
        return [f"the DigitalOcean API answered {status} to GET /v2/kubernetes/options"], []
    notes = []
    versions = options.get("options", {}).get("versions", []) if isinstance(options, dict) else []
    offered = {v.get("slug") for v in versions if isinstance(v, dict)}
    for version in sorted(set(pinned) - offered):
        notes.append(
            f"DigitalOcean does not offer {version} today: clusters on it keep it; a new generation needs an offered one"
        )
    status, listing = _api(get, token, "/kubernetes/clusters?per_page=200")
    clusters = listing.get("kubernetes_clusters", []) if isinstance(listing, dict) and status == 200 else []
    prefix = f"mkt-{stack}-"
    for cluster in clusters:
        if not (isinstance(cluster, dict) and str(cluster.get("name", "")).startswith(prefix)):
            continue
        status, _ = _api(get, token, f"/kubernetes/clusters/{cluster.get('id')}/credentials")
        if status in (401, 403):
            problem = (
                f"DIGITALOCEAN_TOKEN may not fetch the credentials of {cluster.get('name')} ({status}): a refresh "
                "fetches them once the stored ones expire, which takes kubernetes:access_cluster on a token with write "
                "scope (README: token scopes)"
            )
            return ([problem], notes) if refresh else ([], [*notes, problem])
    return [], notes


class ConfigShapeError(Exception):
    """A config value the checks cannot read (the stack settings refuse it as well)."""


ALLOW_LIST_KEY = "marketplace:controlPlaneAllowList"
GENERATIONS_KEY = "marketplace:generations"


def _json_value(config: StackConfig, key: str, default: str, expected: type, what: str) -> Any:
    """The JSON value of a plain-text key, of the `expected` type; a ConfigShapeError otherwise."""
    if key in config.secret_keys:
        raise ConfigShapeError(f"{key} must be {what} in plain text, not a secret")
    try:
        value = json.loads(config.values.get(key, default))
    except (ValueError, RecursionError):
        raise ConfigShapeError(f"{key} must be {what}") from None
    if not isinstance(value, expected):
        raise ConfigShapeError(f"{key} must be {what}")
    return value


def allow_list(config: StackConfig) -> list[str]:
    what = "a list of IPv4 addresses or CIDR ranges"
    entries: list[Any] = _json_value(config, ALLOW_LIST_KEY, "[]", list, what)
    if not all(isinstance(entry, str) for entry in entries):
        raise ConfigShapeError(f"{ALLOW_LIST_KEY} must be {what}, each a quoted string")
    return entries


def pinned_versions(config: StackConfig) -> list[str]:
    """Every Kubernetes version the stack pins: its own and each declared generation's."""
    what = "an object of regions, each a list of generations {name, kubernetesVersion, weight}"
    generations: dict[str, Any] = _json_value(config, GENERATIONS_KEY, "{}", dict, what)
    pinned = [config.values.get("marketplace:kubernetesVersion", "")]
    for members in generations.values():
        if not isinstance(members, list) or not all(isinstance(member, dict) for member in members):
            raise ConfigShapeError(f"{GENERATIONS_KEY} must be {what}")
        pinned += [str(member["kubernetesVersion"]) for member in members if member.get("kubernetesVersion")]
    return [version for version in pinned if version]


def check(stack: str, root: Path, *, egress: str | None, get: Get, environ: Mapping[str, str], refresh: bool = False) -> Result:
    config = load_stack_config(stack, root)
    values = config.values
    if stack == ZONE_STACK:
        return Result(placeholder_problems(values, ZONE_KEYS), [])
    entries = allow_list(config)
    failures = [*placeholder_problems(values)]
    failures += [f"{ALLOW_LIST_KEY}: {problem}" for problem in allow_list_problems(entries)]
    if egress is None:
        try:
            egress = discover_egress(get)
        except OSError as error:
            failures.append(f"this runner's egress address could not be discovered ({error}): pass --egress-ip")
    if egress is not None:
        problem = egress_problem(egress, entries)
        if problem:
            failures.append(problem)
    notes: list[str] = []
    token = environ.get("DIGITALOCEAN_TOKEN") or environ.get("DIGITALOCEAN_ACCESS_TOKEN")
    if token:
        token_failures, notes = token_problems(get, token, stack, pinned_versions(config), refresh=refresh)
        failures += token_failures
    else:
        notes.append("no DIGITALOCEAN_TOKEN in the environment: its scopes were not checked")
    return Result(failures, notes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", required=True, help="the stack about to be previewed or deployed")
    parser.add_argument("--egress-ip", help="this runner's public IPv4 address (default: DEPLOY_EGRESS_IP, else discovered)")
    parser.add_argument("--refresh", action="store_true", help="the run will refresh (a drift check): check what a refresh needs")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, get: Get = _get, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    egress = args.egress_ip or environ.get("DEPLOY_EGRESS_IP") or None
    if egress is not None:
        try:
            if ipaddress.ip_address(egress).version != 4:
                raise ValueError
        except ValueError:
            print(f"error: --egress-ip must be an IPv4 address, got {egress!r}", file=sys.stderr)
            return 2
    try:
        result = check(args.stack, args.root, egress=egress, get=get, environ=environ, refresh=args.refresh)
    except StackConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ConfigShapeError as error:
        print(f"error: stack '{args.stack}': {error}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for failure in result.failures:
        print(f"error: stack '{args.stack}': {failure}", file=sys.stderr)
    if result.failures:
        return 1
    print(f"preflight: stack '{args.stack}' can be deployed from here")
    return 0
