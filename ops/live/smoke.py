"""`ops smoke`: smoke tests against a deployed Marketplace.

Checks the public URL as clients see it through Cloudflare (status, latency, TLS chain,
certificate expiry, health endpoint), proves that every regional origin refuses a client
that is not Cloudflare, and optionally runs a small, bounded load probe.

Exit status: 0 when every check passes, 1 when any check fails, 2 when the checks could
not start (bad input, or the stack outputs could not be read).

Standard library only: this runs right after a deploy and must start fast, so it never
imports pulumi or a cloud SDK; it reads stack outputs through the `pulumi` CLI."""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from ops.live.http import describe_error
from ops.live.smoke_checks import CheckResult, LoadSettings, Origin, PublicUrl, Settings, run_checks

MAX_LOAD_REQUESTS = 10_000
MAX_CONCURRENCY = 64
MAX_LOAD_DEADLINE_SECONDS = 600.0
MAX_TIMEOUT_SECONDS = 300.0
MAX_LATENCY_MS = 3_600_000.0
PULUMI_TIMEOUT_SECONDS = 120.0
NO_CLI = "the pulumi CLI is not on PATH: install it, or give --url and --origin instead of --stack"

_Number = TypeVar("_Number", int, float)


class InputError(ValueError):
    """Input that stops `ops smoke` before any check runs (exit status 2)."""


# --- Input -------------------------------------------------------------------------


def parse_public_url(text: str) -> PublicUrl:
    if not text or any(character.isspace() for character in text):
        raise InputError(f"not a URL: {text!r}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise InputError(f"not a valid URL: {text!r} ({error})") from error
    if parts.scheme != "https":
        raise InputError(f"the URL must start with https:// (the smoke test checks its TLS): {text!r}")
    if not parts.hostname:
        raise InputError(f"the URL has no host name: {text!r}")
    if parts.username is not None or parts.password is not None:
        raise InputError(f"the URL must not carry credentials: {text!r}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return PublicUrl(url=text, hostname=parts.hostname, port=port or 443, path=path)


_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BRACKETED = re.compile(r"\[(?P<ip>[^\]]+)\](?::(?P<port>[^:]*))?")


def parse_origin_address(region: str, text: str) -> Origin:
    """An origin from `IP`, `IP:PORT`, `IPV6` or `[IPV6]:PORT` (port 443 by default)."""
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        ip, port_text = bracketed["ip"], bracketed["port"]
    elif text.count(":") == 1:
        ip, port_text = text.split(":")
    else:
        ip, port_text = text, None
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        raise InputError(f"origin {region}: {ip!r} is not an IP address") from None
    port = 443
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise InputError(f"origin {region}: port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    return Origin(region=region, ip=ip, port=port)


def parse_origin(text: str) -> Origin:
    region, equals, address = text.partition("=")
    if not equals:
        raise InputError(f"expected REGION=IP[:PORT], got {text!r}")
    if not _REGION.fullmatch(region):
        raise InputError(f"{region!r} is not a region name (letters, digits, '-', '_', '.')")
    return parse_origin_address(region, address)


def _number(
    option: str,
    text: str,
    kind: Callable[[str], _Number],
    minimum: float,
    maximum: float,
    *,
    open_minimum: bool,
) -> _Number:
    bound = f"greater than {minimum:g}" if open_minimum else f"at least {minimum:g}"
    try:
        value = kind(text)
    except ValueError:
        raise InputError(f"{option} must be a number, got {text!r}") from None
    too_small = value <= minimum if open_minimum else value < minimum
    if not math.isfinite(value) or too_small or value > maximum:
        raise InputError(f"{option} must be {bound} and at most {maximum:g}, got {text!r}")
    return value


def _health_path(text: str) -> str:
    if not text.startswith("/") or any(character.isspace() for character in text):
        raise InputError(f"--health-path must be a path starting with '/', got {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Values stay strings here and are validated in run(), so that bad input gets one
    # line on stderr rather than argparse's usage block.
    target = parser.add_argument_group("what to check (either --stack, or --url with --origin)")
    target.add_argument("--stack", "-s", metavar="NAME", help="read `url` and `origins` from this stack's outputs")
    target.add_argument("--url", help="the public URL, e.g. https://catalog.example.com")
    target.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="REGION=IP[:PORT]",
        help="a regional origin, to prove it refuses clients that are not Cloudflare (repeatable)",
    )
    checks = parser.add_argument_group("checks")
    checks.add_argument("--health-path", default="/healthz", metavar="PATH", help="default: %(default)s")
    checks.add_argument("--ca-file", metavar="PEM", help="trust these CAs instead of the system trust store")
    checks.add_argument(
        "--timeout",
        default="10",
        metavar="SECONDS",
        help="limit on each request, all phases included (default: 10)",
    )
    checks.add_argument(
        "--max-latency-ms",
        default="2000",
        metavar="MS",
        help="slowest acceptable single request to the public URL or health endpoint (default: 2000)",
    )
    checks.add_argument(
        "--min-cert-days",
        default="14",
        metavar="DAYS",
        help="fail when the certificate expires sooner (default: 14)",
    )
    checks.add_argument(
        "--require-origin-tls",
        action="store_true",
        help="an origin passes only if it answers a TLS handshake and then refuses a client without the "
        "origin-pull certificate (a dead region refuses everyone, which proves nothing)",
    )
    load = parser.add_argument_group("load probe (only with --load)")
    load.add_argument("--load", metavar="N", help=f"send N GETs to the health endpoint (at most {MAX_LOAD_REQUESTS})")
    load.add_argument(
        "--concurrency",
        default="8",
        metavar="C",
        help=f"requests in flight (default: 8, at most {MAX_CONCURRENCY})",
    )
    load.add_argument(
        "--load-deadline",
        default="60",
        metavar="SECONDS",
        help="start no request after this long, and end every request by then (default: 60)",
    )
    load.add_argument(
        "--max-error-rate",
        default="0.01",
        metavar="RATE",
        help="fail above this fraction of failed requests, 0 to 1 (default: 0.01)",
    )
    load.add_argument(
        "--max-p95-ms",
        default="1500",
        metavar="MS",
        help="fail when the 95th percentile is slower (default: 1500)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")


# --- Stack outputs -----------------------------------------------------------------


def read_stack_outputs(stack: str) -> tuple[PublicUrl, list[Origin]]:
    """The public URL and origins a deployed stack exports, via `pulumi stack output`."""
    if not stack or stack.startswith("-"):
        raise InputError(f"not a stack name: {stack!r}")
    command = ["pulumi", "stack", "output", "--json", "--show-secrets=false", "-s", stack]
    shown = " ".join(command)
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(NO_CLI) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"`{shown}` did not finish within {PULUMI_TIMEOUT_SECONDS:g} s") from None
    if completed.returncode != 0:
        said = " ".join(completed.stderr.split()) or "no message"
        raise InputError(f"`{shown}` failed with exit status {completed.returncode}: {said}")
    try:
        outputs = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise InputError(f"`{shown}` did not print JSON: {error}") from None
    if not isinstance(outputs, dict):
        raise InputError(f"`{shown}` printed {type(outputs).__name__}, expected an object of outputs")

    url = outputs.get("url")
    if not isinstance(url, str):
        raise InputError(f"stack {stack} has no `url` output (a string like https://catalog.example.com)")
    origins = _every_generation(outputs.get("generations")) or outputs.get("origins")
    if not isinstance(origins, dict) or not origins:
        raise InputError(f"stack {stack} has no `origins` output (an object of region -> origin IP)")
    try:
        parsed_url = parse_public_url(url)
        parsed_origins = []
        for region, address in origins.items():
            if not isinstance(address, str):
                raise InputError(f"origin {region}: expected an IP address string, got {address!r}")
            parsed_origins.append(parse_origin_address(region, address))
    except InputError as error:
        raise InputError(f"stack {stack} outputs: {error}") from None
    return parsed_url, parsed_origins


def _every_generation(generations: object) -> dict[str, object] | None:
    """Every cluster generation's origin from the `generations` output ({region: {generation:
    {origin, ...}}}), so that during an upgrade the new generation is checked too: "nyc3"
    alone, "nyc3/green" beside "nyc3/blue". None when the stack has no such output."""
    if not isinstance(generations, dict) or not generations:
        return None
    origins: dict[str, object] = {}
    for region, own in generations.items():
        if not isinstance(own, dict) or not own:
            return None
        for generation, detail in own.items():
            label = str(region) if len(own) == 1 else f"{region}/{generation}"
            origins[label] = detail.get("origin") if isinstance(detail, dict) else None
    return origins


# --- Output ------------------------------------------------------------------------


def render_table(results: Sequence[CheckResult]) -> str:
    rows = [("CHECK", "TARGET", "RESULT", "DETAIL")]
    rows += [(r.check, r.target, "PASS" if r.passed else "FAIL", r.detail) for r in results]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)), row[3]]) for row in rows]
    failed = [r.check for r in results if not r.passed]
    if failed:
        lines.append(f"\n{len(failed)} of {len(results)} checks failed: {', '.join(dict.fromkeys(failed))}")
    else:
        lines.append(f"\nall {len(results)} checks passed")
    return "\n".join(lines)


def render_json(url: PublicUrl, results: Sequence[CheckResult]) -> str:
    document = {
        "url": url.url,
        "passed": all(r.passed for r in results),
        "results": [r.as_json() for r in results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


# --- Entry point -------------------------------------------------------------------


def _targets(args: argparse.Namespace) -> tuple[PublicUrl, list[Origin]]:
    if args.stack is not None:
        if args.url is not None or args.origin:
            raise InputError("--stack reads the URL and origins from the stack: do not add --url or --origin")
        url, origins = read_stack_outputs(args.stack)
    elif args.url is None:
        raise InputError("give --stack NAME, or --url URL with --origin REGION=IP[:PORT] for each region")
    else:
        try:
            url = parse_public_url(args.url)
        except InputError as error:
            raise InputError(f"--url: {error}") from None
        try:
            origins = [parse_origin(text) for text in args.origin]
        except InputError as error:
            raise InputError(f"--origin: {error}") from None
    regions = [origin.region for origin in origins]
    duplicates = sorted({region for region in regions if regions.count(region) > 1})
    if duplicates:
        raise InputError(f"more than one origin for region {', '.join(duplicates)}")
    return url, origins


def _load_settings(args: argparse.Namespace) -> LoadSettings | None:
    if args.load is None:
        return None
    return LoadSettings(
        requests=_number("--load", args.load, int, 0, MAX_LOAD_REQUESTS, open_minimum=True),
        concurrency=_number("--concurrency", args.concurrency, int, 0, MAX_CONCURRENCY, open_minimum=True),
        deadline_seconds=_number("--load-deadline", args.load_deadline, float, 0, MAX_LOAD_DEADLINE_SECONDS, open_minimum=True),
        max_error_rate=_number("--max-error-rate", args.max_error_rate, float, 0, 1, open_minimum=False),
        max_p95_ms=_number("--max-p95-ms", args.max_p95_ms, float, 0, MAX_LATENCY_MS, open_minimum=True),
    )


def _trusted_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except FileNotFoundError:
        raise InputError(f"--ca-file {ca_file}: no such file") from None
    except (ssl.SSLError, OSError) as error:
        raise InputError(f"--ca-file {ca_file}: not a PEM file of CA certificates ({describe_error(error)})") from None


def _untrusted_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_Value = TypeVar("_Value")


class _Problems:
    """Input problems, collected so that one run names all of them."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def attempt(self, check: Callable[[], _Value]) -> _Value | None:
        try:
            return check()
        except InputError as error:
            self.found.append(str(error))
            return None


def run(args: argparse.Namespace) -> int:
    problems = _Problems()
    # Everything that needs no network first, all of it, so that one run names every
    # mistake; a typo in a limit should not wait for `pulumi stack output`.
    timeout = problems.attempt(lambda: _number("--timeout", args.timeout, float, 0, MAX_TIMEOUT_SECONDS, open_minimum=True))
    max_latency_ms = problems.attempt(
        lambda: _number("--max-latency-ms", args.max_latency_ms, float, 0, MAX_LATENCY_MS, open_minimum=True)
    )
    min_cert_days = problems.attempt(lambda: _number("--min-cert-days", args.min_cert_days, int, 0, 3650, open_minimum=False))
    health_path = problems.attempt(lambda: _health_path(args.health_path))
    load = problems.attempt(lambda: _load_settings(args))
    trusted = problems.attempt(lambda: _trusted_context(args.ca_file))
    if args.stack is not None and args.url is None and not args.origin and shutil.which("pulumi") is None:
        problems.found.append(NO_CLI)
    targets = problems.attempt(lambda: _targets(args)) if args.stack is None or not problems.found else None
    if problems.found or targets is None:
        print(f"ops smoke: {'; '.join(problems.found)}", file=sys.stderr)
        return 2
    assert timeout is not None and max_latency_ms is not None and min_cert_days is not None
    assert health_path is not None and trusted is not None
    url, origins = targets
    settings = Settings(
        url=url,
        trusted=trusted,
        untrusted=_untrusted_context(),
        timeout=timeout,
        max_latency_ms=max_latency_ms,
        min_cert_days=min_cert_days,
        health_path=health_path,
        require_origin_tls=args.require_origin_tls,
    )
    results = run_checks(settings, origins, load)
    print(render_json(url, results) if args.json else render_table(results))
    return 0 if all(r.passed for r in results) else 1
