"""`ops smoke --require-origin-tls`: an origin passes only when a live TLS server refuses a
client without the origin-pull certificate. A dead region, or a load balancer with nothing
behind it, refuses everyone too, and without the flag would pass as locked down."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from tests.ops.live.pki import Pki
from tests.ops.live.test_smoke import (
    HEALTHY,
    Reply,
    closed_port,
    https_server,
    only_loopback_resolves,
    port_of,
    public,
    smoke,
)

# `catalog.test` resolves to 127.0.0.1 and nothing else resolves, as in test_smoke.py.
pytestmark = pytest.mark.usefixtures(only_loopback_resolves.__name__)


@contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A listener on 127.0.0.1 that hands each connection to `handle`; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            handle(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def accepts_then_closes() -> AbstractContextManager[int]:
    """What a load balancer with no healthy backend does: takes the connection, says nothing
    in TLS, and closes it."""
    return tcp_server(lambda connection: connection.close())


def tls12_requiring_a_client_certificate(pki: Pki) -> AbstractContextManager[int]:
    """A TLS 1.2 server that requires a client certificate aborts the handshake itself."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pki.untrusted.chain, pki.untrusted.key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(pki.ca_file)

    def handshake(connection: socket.socket) -> None:
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            connection.close()

    return tcp_server(handshake)


def origin_row(capsys: pytest.CaptureFixture[str], pki: Pki, port: int, *flags: str) -> tuple[int, dict]:
    with https_server(pki.valid, {"/": Reply(), "/healthz": HEALTHY}) as site:
        outcome = smoke(capsys, *public(site, pki), "--timeout", "0.5", "--origin", f"fra1=127.0.0.1:{port}", "--json", *flags)
    failed = [row for row in outcome.rows() if row["check"] != "origin" and row["result"] != "PASS"]
    assert not failed, failed
    return outcome.code, outcome.row("origin")


def test_a_live_origin_that_refuses_without_the_certificate_passes(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with https_server(pki.untrusted, {"/healthz": HEALTHY}, client_ca=pki.ca_file) as locked:
        code, row = origin_row(capsys, pki, port_of(locked), "--require-origin-tls")
    assert (code, row["result"]) == (0, "PASS"), row
    assert row["detail"].startswith("refused: ") and row["detail"].endswith("; TLS handshake answered (TLSv1.3)")


def test_a_refusal_inside_the_handshake_is_a_live_server_too(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    with tls12_requiring_a_client_certificate(pki) as port:
        code, row = origin_row(capsys, pki, port, "--require-origin-tls")
    assert (code, row["result"]) == (0, "PASS"), row
    assert row["detail"].startswith("refused in the TLS handshake: TLS error: ") and "alert" in row["detail"]


@pytest.mark.parametrize("dead", ["closed port", "accepts then closes", "never answers"])
def test_a_dead_origin_fails_only_when_tls_is_required(pki: Pki, capsys: pytest.CaptureFixture[str], dead: str) -> None:
    @contextmanager
    def origin() -> Iterator[int]:
        if dead == "closed port":
            yield closed_port()
        elif dead == "accepts then closes":
            with accepts_then_closes() as port:
                yield port
        else:
            with socket.create_server(("127.0.0.1", 0)) as silent:
                yield silent.getsockname()[1]

    with origin() as port:
        lenient = origin_row(capsys, pki, port)
        strict = origin_row(capsys, pki, port, "--require-origin-tls")
    # The trap this flag closes: a dead region reads as locked down.
    assert lenient[1]["result"] == "PASS", lenient
    assert (strict[0], strict[1]["result"]) == (1, "FAIL"), strict
    assert strict[1]["detail"].startswith("no TLS handshake: ")
    assert strict[1]["detail"].endswith("a dead or unserved origin refuses everyone, which proves nothing (--require-origin-tls)")


def test_every_input_problem_is_named_in_one_pass(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = smoke(
        capsys, "--url", "ftp://catalog.test", "--timeout", "0", "--health-path", "healthz", "--ca-file", "/nonexistent/ca.pem"
    )
    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err.count("\n") == 1 and outcome.err.startswith("ops smoke: ")
    assert outcome.err.strip().removeprefix("ops smoke: ").split("; ") == [
        "--timeout must be greater than 0 and at most 300, got '0'",
        "--health-path must be a path starting with '/', got 'healthz'",
        "--ca-file /nonexistent/ca.pem: no such file",
        "--url: the URL must start with https:// (the smoke test checks its TLS): 'ftp://catalog.test'",
    ]


def test_a_missing_cli_is_named_with_the_other_problems(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = smoke(capsys, "--stack", "production", "--timeout", "x")
    assert outcome.err.strip().removeprefix("ops smoke: ").split("; ") == [
        "--timeout must be a number, got 'x'",
        "the pulumi CLI is not on PATH: install it, or give --url and --origin instead of --stack",
    ]
