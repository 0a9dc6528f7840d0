"""The checks `ops smoke` runs against a deployed Marketplace: the public URL through
Cloudflare (status, latency, TLS chain, certificate expiry, health), each regional origin's
refusal of a client that is not Cloudflare, and a bounded load probe.

Standard library only, like the command (smoke.py says why)."""

from __future__ import annotations

import collections
import json
import math
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ops.live.http import Address, FetchError, Response, describe_error, fetch, tls_handshake
from ops.live.x509 import certificate_not_after

# Enough of a page to time its delivery without downloading a whole catalog listing.
MAX_PAGE_BYTES = 1024 * 1024
MAX_HEALTH_BYTES = 64 * 1024

# What an origin may answer a client without Cloudflare's certificate: nginx-style
# refusals of a missing or bad client certificate, a forbidden client, a wrong host.
REFUSAL_STATUSES = frozenset({400, 403, 421, 495, 496})
# Transport failures that mean "this origin would not talk to us".
REFUSAL_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionRefusedError,
    ConnectionResetError,
    BrokenPipeError,
    TimeoutError,
    ssl.SSLError,
)


@dataclass(frozen=True)
class PublicUrl:
    url: str
    hostname: str
    port: int
    path: str  # path and query sent in the request line

    @property
    def address(self) -> Address:
        return (self.hostname, self.port)

    @property
    def authority(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return host if self.port == 443 else f"{host}:{self.port}"

    def at(self, path: str) -> str:
        return f"https://{self.authority}{path}"


@dataclass(frozen=True)
class Origin:
    region: str
    ip: str
    port: int

    @property
    def address(self) -> Address:
        return (self.ip, self.port)

    def __str__(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{host}:{self.port}"


# --- Checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check: str
    target: str
    passed: bool
    detail: str
    metrics: dict[str, float | int | str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "target": self.target,
            "result": "PASS" if self.passed else "FAIL",
            "detail": self.detail,
            "metrics": self.metrics,
        }


@dataclass(frozen=True)
class Settings:
    url: PublicUrl
    trusted: ssl.SSLContext  # verifies the chain and the hostname
    untrusted: ssl.SSLContext  # for origins, whose Origin CA certificate no public store trusts
    timeout: float
    max_latency_ms: float
    min_cert_days: int
    health_path: str
    # An origin passes only once it has answered a TLS handshake: a refusal then comes from
    # a live gateway, not from a dead region whose address nobody serves any more.
    require_origin_tls: bool = False


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _excerpt(body: bytes, limit: int = 120) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _get(settings: Settings, path: str, max_body: int, timeout: float | None = None) -> Response:
    url = settings.url
    return fetch(
        url.address,
        server_hostname=url.hostname,
        host_header=url.authority,
        path=path,
        context=settings.trusted,
        timeout=settings.timeout if timeout is None else timeout,
        max_body=max_body,
    )


def check_certificate(settings: Settings, now: datetime) -> list[CheckResult]:
    """`tls`: the chain verifies and names the host; `cert-expiry`: days left. The expiry
    is read even from an untrusted certificate, since that is when it matters most."""
    url = settings.url
    target = url.authority
    try:
        handshake = tls_handshake(url.address, server_hostname=url.hostname, context=settings.trusted, timeout=settings.timeout)
    except FetchError as error:
        tls = CheckResult("tls", target, False, str(error))
        if not isinstance(error.cause, ssl.SSLCertVerificationError):
            return [
                tls,
                CheckResult("cert-expiry", target, False, "no certificate to read: the TLS handshake failed"),
            ]
        try:
            handshake = tls_handshake(
                url.address,
                server_hostname=url.hostname,
                context=settings.untrusted,
                timeout=settings.timeout,
            )
        except FetchError as second:
            return [tls, CheckResult("cert-expiry", target, False, f"no certificate to read: {second}")]
    else:
        detail = f"chain verified for {url.hostname}, {handshake.tls_version}"
        tls = CheckResult("tls", target, True, f"{detail}, issuer {handshake.issuer}" if handshake.issuer else detail)
    return [tls, _expiry(target, handshake.certificate_der, settings.min_cert_days, now)]


def _expiry(target: str, der: bytes, min_days: int, now: datetime) -> CheckResult:
    try:
        expires = certificate_not_after(der)
    except ValueError as error:
        return CheckResult("cert-expiry", target, False, f"cannot read the expiry: {error}")
    left = expires - now
    days_left = math.floor(left / timedelta(days=1))
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    metrics: dict[str, float | int | str] = {"days_left": days_left, "not_after": expires.isoformat()}
    if left <= timedelta(0):
        ago = math.floor(-left / timedelta(days=1))
        return CheckResult("cert-expiry", target, False, f"expired {_days(ago)} ago ({when})", metrics)
    if left < timedelta(days=min_days):
        return CheckResult(
            "cert-expiry",
            target,
            False,
            f"{_days(days_left)} left (expires {when}), less than the {min_days} days required",
            metrics,
        )
    return CheckResult("cert-expiry", target, True, f"{_days(days_left)} left (expires {when})", metrics)


def check_public_url(settings: Settings) -> CheckResult:
    url = settings.url
    target = url.at(url.path)
    try:
        response = _get(settings, url.path, MAX_PAGE_BYTES)
    except FetchError as error:
        return CheckResult("public-url", target, False, f"no response: {error}")
    return _status_and_latency("public-url", target, response, settings.max_latency_ms, "")


def _status_and_latency(check: str, target: str, response: Response, max_latency_ms: float, note: str) -> CheckResult:
    metrics: dict[str, float | int | str] = {
        "status": response.status,
        "latency_ms": round(response.elapsed * 1000, 1),
    }
    answered = f"{response.status} {response.reason} in {_ms(response.elapsed)}"
    if not 200 <= response.status < 300:
        excerpt = _excerpt(response.body)
        return CheckResult(check, target, False, f"{answered}, expected 2xx" + (f": {excerpt}" if excerpt else ""), metrics)
    if response.elapsed * 1000 > max_latency_ms:
        return CheckResult(check, target, False, f"{answered}, slower than the {max_latency_ms:g} ms limit", metrics)
    return CheckResult(check, target, True, answered + note, metrics)


def check_health(settings: Settings) -> CheckResult:
    """2xx within the latency limit and, when the body is a JSON object with a `status`,
    that status is "ok"."""
    target = settings.url.at(settings.health_path)
    try:
        response = _get(settings, settings.health_path, MAX_HEALTH_BYTES)
    except FetchError as error:
        return CheckResult("health", target, False, f"no response: {error}")
    claims_json = "json" in response.content_type.lower()
    note = ""
    if 200 <= response.status < 300 and (claims_json or response.body.lstrip().startswith(b"{")):
        try:
            document = json.loads(response.body)
        except ValueError:
            if claims_json:
                return CheckResult(
                    "health",
                    target,
                    False,
                    f"{response.status} {response.reason} but the body is not valid JSON: {_excerpt(response.body)}",
                )
            document = None
        if isinstance(document, dict) and "status" in document:
            if document["status"] != "ok":
                return CheckResult(
                    "health",
                    target,
                    False,
                    f"{response.status} {response.reason} but status is {document['status']!r}, "
                    f'expected "ok": {_excerpt(response.body)}',
                    {"status": response.status, "latency_ms": round(response.elapsed * 1000, 1)},
                )
            note = ', status "ok"'
    return _status_and_latency("health", target, response, settings.max_latency_ms, note)


def _tls_alert(error: BaseException) -> bool:
    """A TLS alert the server sent (certificate required, handshake failure...): proof that
    a TLS server answered, unlike a closed, reset or silent connection."""
    if not isinstance(error, ssl.SSLError) or isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return False
    return "ALERT" in str(error.reason or "").upper()


def _origin_handshake(settings: Settings, origin: Origin, target: str) -> CheckResult | str:
    """With --require-origin-tls: a result when the handshake already decides (refused by a
    TLS alert: passes; no TLS server: fails), else what the handshake showed."""
    try:
        handshake = tls_handshake(
            origin.address, server_hostname=settings.url.hostname, context=settings.untrusted, timeout=settings.timeout
        )
    except FetchError as error:
        if _tls_alert(error.cause):
            return CheckResult("origin", target, True, f"refused in the TLS handshake: {error}")
        return CheckResult(
            "origin",
            target,
            False,
            f"no TLS handshake: {error}; a dead or unserved origin refuses everyone, which proves nothing (--require-origin-tls)",
        )
    return f"; TLS handshake answered ({handshake.tls_version})"


def check_origin(settings: Settings, origin: Origin) -> CheckResult:
    """The origin, reached directly with the public hostname but without Cloudflare's
    client certificate, must refuse; anything it serves proves it would serve anyone.
    With `require_origin_tls`, it must also be alive: answer a TLS handshake first."""
    target = f"{origin.region} {origin}"
    url = settings.url
    answered = ""
    if settings.require_origin_tls:
        decided = _origin_handshake(settings, origin, target)
        if isinstance(decided, CheckResult):
            return decided
        answered = decided
    try:
        response = fetch(
            origin.address,
            server_hostname=url.hostname,
            host_header=url.authority,
            path=settings.health_path,
            context=settings.untrusted,
            timeout=settings.timeout,
            max_body=0,
        )
    except FetchError as error:
        if isinstance(error.cause, REFUSAL_ERRORS):
            detail = f"refused: {error}"
            if isinstance(error.cause, TimeoutError):
                detail += f" (no answer within {settings.timeout:g} s)"
            return CheckResult("origin", target, True, detail + answered)
        return CheckResult("origin", target, False, f"cannot tell whether it refuses: {error}")
    status = f"{response.status} {response.reason}"
    if response.status in REFUSAL_STATUSES:
        return CheckResult("origin", target, True, f"refused: answered {status}{answered}", {"status": response.status})
    if 200 <= response.status < 400:
        return CheckResult(
            "origin",
            target,
            False,
            f"answered {status} without a client certificate: the origin answers clients that are not Cloudflare",
            {"status": response.status},
        )
    return CheckResult(
        "origin",
        target,
        False,
        f"answered {status}; expected a refusal (connection refused or reset, "
        "TLS handshake failure, or HTTP 400/403/421/495/496)",
        {"status": response.status},
    )


@dataclass(frozen=True)
class LoadSettings:
    requests: int
    concurrency: int
    deadline_seconds: float
    max_error_rate: float
    max_p95_ms: float


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: always a latency that was actually measured."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def run_load_probe(settings: Settings, load: LoadSettings) -> CheckResult:
    """N GETs of the health endpoint, at most C at a time, each on a fresh connection.
    No request starts after the deadline and none outlives it."""
    target = settings.url.at(settings.health_path)
    deadline = time.monotonic() + load.deadline_seconds

    def one(_: int) -> float | str | None:
        """Latency in seconds, the reason it failed, or None when the deadline had passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            response = _get(settings, settings.health_path, MAX_HEALTH_BYTES, timeout=min(settings.timeout, remaining))
        except FetchError as error:
            return describe_error(error.cause)
        if not 200 <= response.status < 300:
            return f"{response.status} {response.reason}"
        return response.elapsed

    with ThreadPoolExecutor(max_workers=min(load.concurrency, load.requests), thread_name_prefix="smoke-load") as pool:
        outcomes = list(pool.map(one, range(load.requests)))

    latencies = sorted(outcome for outcome in outcomes if isinstance(outcome, float))
    failures = collections.Counter(outcome for outcome in outcomes if isinstance(outcome, str))
    finished = len(latencies) + failures.total()
    error_count = failures.total()
    error_rate = error_count / finished if finished else 1.0
    metrics: dict[str, float | int | str] = {
        "requested": load.requests,
        "finished": finished,
        "errors": error_count,
        "error_rate": round(error_rate, 4),
    }
    summary = f"{finished}/{load.requests} requests at concurrency {load.concurrency}"
    problems = []
    if latencies:
        p50, p95 = nearest_rank(latencies, 0.50), nearest_rank(latencies, 0.95)
        metrics |= {"p50_ms": round(p50 * 1000, 1), "p95_ms": round(p95 * 1000, 1)}
        summary += f", p50 {_ms(p50)}, p95 {_ms(p95)}"
        if p95 * 1000 > load.max_p95_ms:
            problems.append(f"p95 slower than the {load.max_p95_ms:g} ms limit")
    summary += f", errors {error_count} ({error_rate:.1%})"
    if error_rate > load.max_error_rate:
        reason, count = failures.most_common(1)[0] if failures else ("no request finished", 0)
        problems.append(f"error rate above {load.max_error_rate:.1%} (most often {reason}, {count} times)")
    if finished < load.requests:
        problems.append(f"the {load.deadline_seconds:g} s deadline passed before all requests ran")
    detail = "; ".join([summary, *problems])
    return CheckResult("load", target, not problems, detail, metrics)


def run_checks(settings: Settings, origins: Sequence[Origin], load: LoadSettings | None) -> list[CheckResult]:
    """All checks but the load probe run side by side, so that origins which drop
    packets (and so take the whole timeout to refuse) cost one timeout, not one each.
    The load probe runs last, alone, so it cannot skew the single-request latencies."""
    now = datetime.now(UTC)
    with ThreadPoolExecutor(max_workers=3 + len(origins), thread_name_prefix="smoke") as pool:
        public_url = pool.submit(check_public_url, settings)
        certificate = pool.submit(check_certificate, settings, now)
        health = pool.submit(check_health, settings)
        per_origin = [pool.submit(check_origin, settings, origin) for origin in origins]
        results = [
            public_url.result(),
            *certificate.result(),
            health.result(),
            *(f.result() for f in per_origin),
        ]
    if load is not None:
        results.append(run_load_probe(settings, load))
    return results
