"""`ops smoke` against real HTTPS servers on 127.0.0.1, with certificates from a throwaway
CA made by the openssl CLI. `catalog.test` resolves to 127.0.0.1 and nothing else resolves,
so no test can reach beyond loopback."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from tests.ops.live.pki import HOST, Pki, ServerCertificate

REPO = Path(__file__).resolve().parents[3]

# --- Servers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    content_type: str = "text/plain"
    delay: float = 0.0


HEALTHY = Reply(body=b'{"status": "ok"}', content_type="application/json")
Routes = dict[str, Reply | Callable[[], Reply]]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: Routes
    host_headers: list[str]
    server_names: list[str | None]

    def server_bind(self) -> None:
        # HTTPServer would look up the FQDN of 127.0.0.1; tests make no name lookups.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Refused handshakes are what several tests expect: no traceback for them."""


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.host_headers.append(self.headers.get("Host", ""))
        route = self.server.routes.get(self.path, Reply(404, b"no such path"))
        reply = route() if callable(route) else route
        time.sleep(reply.delay)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the assertions that matter."""


@contextmanager
def https_server(certificate: ServerCertificate, routes: Routes, client_ca: Path | None = None) -> Iterator[_Server]:
    """An HTTPS server on 127.0.0.1; with `client_ca`, it requires a client certificate
    signed by it, as an origin requires Cloudflare's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.chain, certificate.key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes, server.host_headers, server.server_names = routes, [], []
    context.sni_callback = lambda _socket, name, _context: server.server_names.append(name)
    # Handshakes then happen in each handler thread, so a failing one never blocks accept.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def port_of(server: _Server) -> int:
    return server.server_address[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def only_loopback_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (HOST, "127.0.0.1"):
            raise socket.gaierror(socket.EAI_NONAME, f"tests resolve only {HOST}, not {host}")
        return real_getaddrinfo("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- Running ops smoke ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def rows(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = json.loads(self.out)["results"]
        return results

    def row(self, check: str) -> dict[str, Any]:
        (found,) = [row for row in self.rows() if row["check"] == check]
        return found

    def results(self) -> dict[str, str]:
        """check -> PASS/FAIL for the checks that have one row."""
        return {row["check"]: row["result"] for row in self.rows() if row["check"] != "origin"}


def smoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    code = main(["smoke", *argv])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def public(server: _Server, pki: Pki, *extra: str) -> list[str]:
    return [
        "--url",
        f"https://{HOST}:{port_of(server)}/",
        "--ca-file",
        str(pki.ca_file),
        "--timeout",
        "2",
        *extra,
    ]


PUBLIC_CHECKS = {"public-url": "PASS", "tls": "PASS", "cert-expiry": "PASS", "health": "PASS"}


# --- Everything healthy --------------------------------------------------------------


def test_healthy_deployment_passes_every_check(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    routes: Routes = {"/": Reply(body=b"<html>catalog</html>", content_type="text/html"), "/healthz": HEALTHY}
    with (
        https_server(pki.valid, routes) as site,
        https_server(pki.valid, {"/healthz": HEALTHY}, client_ca=pki.ca_file) as fra1,
        https_server(pki.valid, {"/healthz": Reply(403, b"forbidden")}) as nyc3,
    ):
        origins = [
            f"fra1=127.0.0.1:{port_of(fra1)}",
            f"nyc3=127.0.0.1:{port_of(nyc3)}",
            f"sgp1=127.0.0.1:{closed_port()}",
        ]
        outcome = smoke(
            capsys, *public(site, pki), *itertools.chain(*(("--origin", o) for o in origins)),
            "--load", "20", "--concurrency", "4",
        )  # fmt: skip
        seen_by_fra1 = list(fra1.server_names)

    assert outcome.code == 0, outcome.out
    header, *rows, blank, summary = outcome.out.splitlines()
    assert header.split() == ["CHECK", "TARGET", "RESULT", "DETAIL"]
    assert [row.split()[0] for row in rows] == [
        "public-url",
        "tls",
        "cert-expiry",
        "health",
        *["origin"] * 3,
        "load",
    ]
    assert all(row.split()[-1] != "FAIL" and " PASS " in row for row in rows), outcome.out
    assert blank == "" and summary == "all 8 checks passed"
    assert "89 days left" in outcome.out
    assert 'status "ok"' in outcome.out
    assert "20/20 requests at concurrency 4" in outcome.out
    assert "fra1" in outcome.out and "sgp1" in outcome.out and "connection refused" in outcome.out
    # The origin was asked for the public hostname, as Cloudflare would ask it.
    assert seen_by_fra1 == [HOST]


def test_json_output_carries_results_and_metrics(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--json")

    assert outcome.code == 0
    document = json.loads(outcome.out)
    assert document["passed"] is True and document["url"] == f"https://{HOST}:{port_of(site)}/"
    assert outcome.results() == PUBLIC_CHECKS
    assert outcome.row("public-url")["metrics"]["status"] == 200
    assert outcome.row("cert-expiry")["metrics"]["days_left"] == 89


# --- The public URL misbehaving ------------------------------------------------------


def test_server_error_fails_the_public_url(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    routes: Routes = {"/": Reply(503, b"upstream unavailable"), "/healthz": HEALTHY}
    with https_server(pki.valid, routes) as site:
        outcome = smoke(capsys, *public(site, pki), "--json")

    assert outcome.code == 1
    assert outcome.results() == PUBLIC_CHECKS | {"public-url": "FAIL"}
    assert "503 Service Unavailable" in outcome.row("public-url")["detail"]
    assert "expected 2xx: upstream unavailable" in outcome.row("public-url")["detail"]


def test_slow_response_fails_the_latency_limit(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.valid, {"/": Reply(delay=0.3), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki, "--max-latency-ms", "150"), "--json")

    assert outcome.code == 1
    assert outcome.results() == PUBLIC_CHECKS | {"public-url": "FAIL"}
    assert "slower than the 150 ms limit" in outcome.row("public-url")["detail"]
    assert outcome.row("public-url")["metrics"]["latency_ms"] >= 300


def test_response_beyond_the_timeout_is_no_response(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.valid, {"/": Reply(delay=0.6), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--timeout", "0.3", "--json")

    assert outcome.code == 1
    assert outcome.row("public-url")["result"] == "FAIL"
    assert outcome.row("public-url")["detail"] == "no response: timed out (during HTTP exchange)"


class _TricklingHandler(_Handler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        for _ in range(10):
            self.wfile.write(b".")
            self.wfile.flush()
            time.sleep(0.1)


def test_timeout_bounds_the_whole_exchange_not_each_read(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    """A server that sends its body a byte at a time never lets one read time out."""
    with https_server(pki.valid, {}) as site:
        site.RequestHandlerClass = _TricklingHandler
        outcome = smoke(capsys, *public(site, pki), "--timeout", "0.3", "--json")

    # The whole body takes 1 s, and no single read waits longer than 0.1 s.
    assert outcome.row("public-url")["detail"] == "no response: timed out (during HTTP exchange)"
    assert outcome.row("health")["detail"] == "no response: timed out (during HTTP exchange)"


@pytest.mark.parametrize(
    ("min_days", "result", "detail"),
    [
        ("14", "FAIL", "4 days left (expires "),
        ("14", "FAIL", "less than the 14 days required"),
        ("4", "PASS", "4 days left"),
    ],
)
def test_certificate_expiring_soon(pki: Pki, capsys: pytest.CaptureFixture[str], min_days: str, result: str, detail: str) -> None:
    with https_server(pki.expiring, {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki, "--min-cert-days", min_days), "--json")

    assert outcome.code == (0 if result == "PASS" else 1)
    assert outcome.results() == PUBLIC_CHECKS | {"cert-expiry": result}
    assert detail in outcome.row("cert-expiry")["detail"]


def test_expired_certificate(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.expired, {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--json")

    assert outcome.code == 1
    assert outcome.row("tls")["detail"].startswith("certificate verify failed: certificate has expired")
    assert outcome.row("cert-expiry")["result"] == "FAIL"
    assert outcome.row("cert-expiry")["detail"].startswith("expired 2 days ago (")
    # Nothing reaches a client whose TLS fails.
    assert outcome.row("public-url")["result"] == outcome.row("health")["result"] == "FAIL"


@pytest.mark.parametrize(
    ("certificate", "reason"),
    [
        ("untrusted", "certificate verify failed: unable to get local issuer certificate"),
        (
            "wrong_name",
            "certificate verify failed: Hostname mismatch, certificate is not valid for 'catalog.test'.",
        ),
    ],
)
def test_untrusted_certificate(pki: Pki, capsys: pytest.CaptureFixture[str], certificate: str, reason: str) -> None:
    with https_server(getattr(pki, certificate), {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--json")

    assert outcome.code == 1
    assert outcome.row("tls") | {"metrics": None} == {
        "check": "tls",
        "target": f"{HOST}:{port_of(site)}",
        "result": "FAIL",
        "detail": f"{reason} (during TLS handshake)",
        "metrics": None,
    }
    # Its expiry is still read and reported, from the certificate as presented.
    assert outcome.row("cert-expiry")["result"] == "PASS"
    assert outcome.row("cert-expiry")["detail"].startswith("89 days left")


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (Reply(500, b"database unreachable"), "500 Internal Server Error"),
        (
            Reply(body=b'{"status": "degraded", "db": "down"}', content_type="application/json"),
            "status is 'degraded'",
        ),
        (Reply(body=b"{not json", content_type="application/json"), "the body is not valid JSON"),
    ],
    ids=["5xx", "not-ok", "bad-json"],
)
def test_failing_health_endpoint(pki: Pki, capsys: pytest.CaptureFixture[str], reply: Reply, detail: str) -> None:
    with https_server(pki.valid, {"/": Reply(), "/healthz": reply}) as site:
        outcome = smoke(capsys, *public(site, pki), "--json")

    assert outcome.code == 1
    assert outcome.results() == PUBLIC_CHECKS | {"health": "FAIL"}
    assert detail in outcome.row("health")["detail"]


def test_health_path_is_configurable_and_plain_text_health_passes(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.valid, {"/": Reply(), "/ready": Reply(body=b"ready")}) as site:
        outcome = smoke(capsys, *public(site, pki, "--health-path", "/ready"), "--json")

    assert outcome.code == 0
    assert outcome.row("health")["target"] == f"https://{HOST}:{port_of(site)}/ready"


# --- Origins must refuse clients that are not Cloudflare -----------------------------


@contextmanager
def origin(kind: str, pki: Pki) -> Iterator[tuple[int, _Server | None]]:
    if kind == "closed":
        yield closed_port(), None
        return
    replies = {
        "answers-200": HEALTHY,
        "answers-403": Reply(403),
        "answers-404": Reply(404),
        "requires-cert": HEALTHY,
    }
    client_ca = pki.ca_file if kind == "requires-cert" else None
    with https_server(pki.untrusted, {"/healthz": replies[kind]}, client_ca=client_ca) as server:
        yield port_of(server), server


@pytest.mark.parametrize(
    ("kind", "result", "detail_pattern"),
    [
        (
            "answers-200",
            "FAIL",
            r"answered 200 OK without a client certificate: "
            r"the origin answers clients that are not Cloudflare",
        ),
        ("answers-404", "FAIL", r"answered 404 Not Found; expected a refusal"),
        # The server sends its alert and closes with our request unread, so the kernel
        # may reset the connection before the alert is read: any of the three is a refusal.
        (
            "requires-cert",
            "PASS",
            r"refused: (TLS error: tlsv13 alert certificate required|TLS error: connection closed without a "
            r"TLS close|connection reset) \(during HTTP exchange\)",
        ),
        ("answers-403", "PASS", r"refused: answered 403 Forbidden"),
        ("closed", "PASS", r"refused: connection refused \(during connect\)"),
    ],
)
def test_origin_must_refuse_clients_without_cloudflare_certificate(
    pki: Pki, capsys: pytest.CaptureFixture[str], kind: str, result: str, detail_pattern: str
) -> None:
    with (
        https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site,
        origin(kind, pki) as (port, server),
    ):
        outcome = smoke(capsys, *public(site, pki), "--origin", f"ams3=127.0.0.1:{port}", "--json")
        seen = (list(server.server_names), list(server.host_headers)) if server else None

    assert outcome.code == (0 if result == "PASS" else 1)
    assert outcome.results() == PUBLIC_CHECKS
    row = outcome.row("origin")
    assert (row["target"], row["result"]) == (f"ams3 127.0.0.1:{port}", result)
    assert re.match(detail_pattern, row["detail"]), row["detail"]
    if kind == "answers-200":
        # It was asked exactly as Cloudflare would ask: public name in SNI and Host.
        assert seen == ([HOST], [f"{HOST}:{port_of(site)}"])


def test_origin_that_never_answers_counts_as_refusing(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    """Packets dropped by the firewall look like a connection that never answers."""
    with (
        https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site,
        socket.create_server(("127.0.0.1", 0)) as silent,
    ):
        silent_port = silent.getsockname()[1]
        outcome = smoke(capsys, *public(site, pki), "--timeout", "0.3", "--origin", f"lon1=127.0.0.1:{silent_port}")

    assert outcome.code == 0, outcome.out
    assert "refused: timed out (during TLS handshake) (no answer within 0.3 s)" in outcome.out


# --- Load probe ----------------------------------------------------------------------


def every_other_health_check_fails() -> Callable[[], Reply]:
    counter = itertools.count(1)
    lock = threading.Lock()

    def reply() -> Reply:
        with lock:
            number = next(counter)
        return HEALTHY if number % 2 else Reply(503, b"overloaded")

    return reply


def test_load_probe_fails_above_the_error_rate(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    routes: Routes = {"/": Reply(), "/healthz": every_other_health_check_fails()}
    with https_server(pki.valid, routes) as site:
        outcome = smoke(capsys, *public(site, pki), "--load", "20", "--concurrency", "4", "--json")

    assert outcome.code == 1
    # The single health check ran first, alone, and got the first (healthy) answer.
    assert outcome.results() == PUBLIC_CHECKS | {"load": "FAIL"}
    load = outcome.row("load")
    assert load["metrics"] | {"p50_ms": 0, "p95_ms": 0} == {
        "requested": 20,
        "finished": 20,
        "errors": 10,
        "error_rate": 0.5,
        "p50_ms": 0,
        "p95_ms": 0,
    }
    assert "error rate above 1.0% (most often 503 Service Unavailable, 10 times)" in load["detail"]


def test_load_probe_fails_above_the_p95_limit(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--load", "5", "--max-p95-ms", "0.001", "--json")

    assert outcome.code == 1
    assert outcome.row("load")["result"] == "FAIL"
    assert "p95 slower than the 0.001 ms limit" in outcome.row("load")["detail"]
    assert outcome.row("load")["metrics"]["errors"] == 0


# --- Stack outputs through the pulumi CLI --------------------------------------------


def fake_pulumi(directory: Path, *, stdout: str, stderr: str = "", status: int = 0) -> Path:
    """A `pulumi` executable that records its arguments and prints what it is given."""
    directory.mkdir(exist_ok=True)
    calls = directory / "calls.json"
    script = directory / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(calls)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({status})\n"
    )
    script.chmod(0o755)
    return calls


def test_stack_outputs_name_the_url_and_origins(
    pki: Pki, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site:
        refused_port = closed_port()
        outputs = {
            "url": f"https://{HOST}:{port_of(site)}",
            "origins": {"fra1": f"127.0.0.1:{refused_port}", "nyc3": f"127.0.0.1:{refused_port}"},
            "kubeconfigs": "[secret]",
        }
        calls = fake_pulumi(tmp_path / "bin", stdout=json.dumps(outputs))
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
        outcome = smoke(capsys, "--stack", "production", "--ca-file", str(pki.ca_file), "--timeout", "2", "--json")

    assert json.loads(calls.read_text()) == [
        "stack",
        "output",
        "--json",
        "--show-secrets=false",
        "-s",
        "production",
    ]
    assert outcome.code == 0, outcome.out
    assert [row["target"] for row in outcome.rows() if row["check"] == "origin"] == [
        f"fra1 127.0.0.1:{refused_port}",
        f"nyc3 127.0.0.1:{refused_port}",
    ]
    assert outcome.row("public-url")["target"] == f"https://{HOST}:{port_of(site)}/"


def test_every_generation_of_a_region_is_checked_during_an_upgrade(
    pki: Pki, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site:
        blue, green, fra1 = closed_port(), closed_port(), closed_port()
        outputs = {
            "url": f"https://{HOST}:{port_of(site)}",
            # Keyed by region: the serving generation only.
            "origins": {"nyc3": f"127.0.0.1:{blue}", "fra1": f"127.0.0.1:{fra1}"},
            "generations": {
                "nyc3": {
                    "blue": {"origin": f"127.0.0.1:{blue}", "weight": 0.9},
                    "green": {"origin": f"127.0.0.1:{green}", "weight": 0.1},
                },
                "fra1": {"blue": {"origin": f"127.0.0.1:{fra1}", "weight": 1}},
            },
        }
        fake_pulumi(tmp_path / "bin", stdout=json.dumps(outputs))
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
        outcome = smoke(capsys, "--stack", "production", "--ca-file", str(pki.ca_file), "--timeout", "2", "--json")

    assert outcome.code == 0, outcome.out
    assert [row["target"] for row in outcome.rows() if row["check"] == "origin"] == [
        f"nyc3/blue 127.0.0.1:{blue}",
        f"nyc3/green 127.0.0.1:{green}",
        f"fra1 127.0.0.1:{fra1}",
    ]


@pytest.mark.parametrize(
    ("pulumi", "message"),
    [
        (
            {"stdout": "", "stderr": "error: no stack named 'prod' found\n", "status": 255},
            "ops smoke: `pulumi stack output --json --show-secrets=false -s prod` failed with exit "
            "status 255: error: no stack named 'prod' found\n",
        ),
        ({"stdout": '{"url": "https://catalog.test"}'}, "ops smoke: stack prod has no `origins` output"),
        (
            {"stdout": '{"url": "https://catalog.test", "origins": {"fra1": "fra1.internal"}}'},
            "ops smoke: stack prod outputs: origin fra1: 'fra1.internal' is not an IP address\n",
        ),
        (None, "ops smoke: the pulumi CLI is not on PATH"),
    ],
    ids=["pulumi-fails", "no-origins", "bad-origin", "no-pulumi"],
)
def test_unreadable_stack_outputs_stop_before_any_check(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pulumi: dict[str, Any] | None,
    message: str,
) -> None:
    if pulumi is not None:
        fake_pulumi(tmp_path / "bin", **pulumi)
    else:
        (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    outcome = smoke(capsys, "--stack", "prod")

    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err.startswith(message)
    assert outcome.err.count("\n") == 1


# --- Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --stack NAME, or --url URL with --origin REGION=IP[:PORT] for each region"),
        (["--url", "catalog.test"], "--url: the URL must start with https://"),
        (["--url", "http://catalog.test"], "--url: the URL must start with https://"),
        (["--url", "https://"], "--url: the URL has no host name"),
        (["--url", "https://catalog.test:70000"], "--url: not a valid URL"),
        (
            ["--url", "https://catalog.test", "--origin", "fra1"],
            "--origin: expected REGION=IP[:PORT], got 'fra1'",
        ),
        (["--url", "https://catalog.test", "--origin", "fra1=origin.host"], "is not an IP address"),
        (["--url", "https://catalog.test", "--origin", "fra1=10.0.0.1:0"], "port '0' is not a number from 1"),
        (
            ["--url", "https://catalog.test", "--origin", "a=10.0.0.1", "--origin", "a=10.0.0.2"],
            "more than one",
        ),
        (["--url", "https://catalog.test", "--timeout", "0"], "--timeout must be greater than 0"),
        (["--url", "https://catalog.test", "--timeout", "soon"], "--timeout must be a number, got 'soon'"),
        (
            ["--url", "https://catalog.test", "--max-latency-ms", "-5"],
            "--max-latency-ms must be greater than 0",
        ),
        (["--url", "https://catalog.test", "--min-cert-days", "-1"], "--min-cert-days must be at least 0"),
        (["--url", "https://catalog.test", "--load", "0"], "--load must be greater than 0"),
        (
            ["--url", "https://catalog.test", "--load", "10001"],
            "--load must be greater than 0 and at most 10000",
        ),
        (
            ["--url", "https://catalog.test", "--load", "9", "--concurrency", "65"],
            "--concurrency must be greater",
        ),
        (["--url", "https://catalog.test", "--load", "9", "--load-deadline", "0"], "--load-deadline must be"),
        (
            ["--url", "https://catalog.test", "--load", "9", "--max-error-rate", "2"],
            "--max-error-rate must be",
        ),
        (["--url", "https://catalog.test", "--health-path", "healthz"], "--health-path must be a path"),
        (
            ["--url", "https://catalog.test", "--ca-file", "/nonexistent/ca.pem"],
            "--ca-file /nonexistent/ca.pem",
        ),
        (["--stack", "prod", "--url", "https://catalog.test"], "do not add --url or --origin"),
    ],
)
def test_bad_input_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    outcome = smoke(capsys, *argv)

    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err.startswith("ops smoke: ") and outcome.err.count("\n") == 1
    assert message in outcome.err


def test_command_starts_without_cloud_sdks_and_without_traceback() -> None:
    program = (
        "import sys\n"
        "from ops.cli import main\n"
        "code = main(['smoke', '--url', 'ftp://catalog.test'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0].startswith(('pulumi', 'grpc')))\n"
        "print(code, heavy)\n"
    )
    completed = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=20, check=False)

    assert completed.stdout == "2 []\n"
    assert completed.stderr == (
        "ops smoke: --url: the URL must start with https:// (the smoke test checks its TLS): 'ftp://catalog.test'\n"
    )
