"""The HTTPS client behind `ops smoke`: one GET per connection, to an address the
caller picks, with the SNI and Host header the caller picks, so that a regional
origin can be reached by IP while presenting the public hostname. A single deadline
bounds the whole exchange: connect, handshake, response headers and body.

Why not `requests`/`httpx`: neither connects to one address while sending another name in
SNI and Host without adapters of their own, and `ops smoke` runs on the standard library
alone (x509.py says why)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Literal

USER_AGENT = "marketplace-ops-smoke/1"

Address = tuple[str, int]
Phase = Literal["connect", "tls", "http"]


def describe_error(error: BaseException) -> str:
    """A short, operator-facing account of why a connection or request failed."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLEOFError):
        return "TLS error: connection closed without a TLS close"
    if isinstance(error, ssl.SSLError):
        # `reason` is OpenSSL's name for the failure, e.g. TLSV13_ALERT_CERTIFICATE_REQUIRED.
        return f"TLS error: {error.reason.lower().replace('_', ' ')}" if error.reason else f"TLS error: {error}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name: {error.strerror}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, BrokenPipeError):
        return "connection closed while sending the request"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(error, http.client.HTTPException):
        return f"malformed HTTP response ({type(error).__name__}: {error})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return f"{type(error).__name__}: {error}"


class FetchError(Exception):
    """No HTTP response: `phase` says how far the exchange got, `cause` why it stopped."""

    def __init__(self, phase: Phase, cause: BaseException) -> None:
        super().__init__(f"{describe_error(cause)} (during {_PHASE_NAMES[phase]})")
        self.phase = phase
        self.cause = cause


_PHASE_NAMES: dict[Phase, str] = {"connect": "connect", "tls": "TLS handshake", "http": "HTTP exchange"}


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    content_type: str
    body: bytes  # at most the caller's max_body bytes
    elapsed: float  # seconds from the start of connect to the last byte read


@dataclass(frozen=True)
class Handshake:
    certificate_der: bytes
    tls_version: str
    issuer: str  # empty unless the context verified the chain


def _issuer_name(decoded: dict[str, Any]) -> str:
    """The issuer's common name (or organization) from a decoded, verified certificate."""
    # Each relative distinguished name is a tuple of (attribute, value) pairs.
    names = {attribute: value for rdn in decoded.get("issuer", ()) for attribute, value in rdn}
    return str(names.get("commonName") or names.get("organizationName") or "")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


def _open_tls(address: Address, server_hostname: str, context: ssl.SSLContext, deadline: _Deadline) -> ssl.SSLSocket:
    try:
        raw = socket.create_connection(address, timeout=deadline.remaining())
    except OSError as error:
        raise FetchError("connect", error) from error
    try:
        raw.settimeout(deadline.remaining())
        return context.wrap_socket(raw, server_hostname=server_hostname)
    except OSError as error:  # ssl.SSLError and TimeoutError are OSErrors
        raw.close()
        raise FetchError("tls", error) from error


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over TLS to a fixed address, whatever the Host header says."""

    def __init__(self, address: Address, server_hostname: str, context: ssl.SSLContext, deadline: _Deadline):
        super().__init__(address[0], address[1])
        self._address = address
        self._server_hostname = server_hostname
        self._context = context
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = _open_tls(self._address, self._server_hostname, self._context, self._deadline)


def fetch(
    address: Address,
    *,
    server_hostname: str,
    host_header: str,
    path: str,
    context: ssl.SSLContext,
    timeout: float,
    max_body: int,
) -> Response:
    """GET `path` from `address` over TLS; raises FetchError when no response arrives
    within `timeout` seconds in all."""
    deadline = _Deadline(timeout)
    started = time.monotonic()
    connection = _PinnedConnection(address, server_hostname, context, deadline)
    try:
        headers = {"Host": host_header, "User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
        connection.request("GET", path, headers=headers)
        sock = connection.sock
        assert isinstance(sock, ssl.SSLSocket)
        sock.settimeout(deadline.remaining())
        response = connection.getresponse()
        body = bytearray()
        while len(body) < max_body:
            sock.settimeout(deadline.remaining())
            # read1: at most one socket read per deadline check (read(n) loops until n bytes).
            chunk = response.read1(min(64 * 1024, max_body - len(body)))
            if not chunk:
                break
            body += chunk
        return Response(
            status=response.status,
            reason=response.reason,
            content_type=response.getheader("Content-Type", ""),
            body=bytes(body),
            elapsed=time.monotonic() - started,
        )
    except (OSError, http.client.HTTPException) as error:
        raise FetchError("http", error) from error
    finally:
        connection.close()


def tls_handshake(address: Address, *, server_hostname: str, context: ssl.SSLContext, timeout: float) -> Handshake:
    """Complete a TLS handshake and return what the server presented."""
    with _open_tls(address, server_hostname, context, _Deadline(timeout)) as tls:
        der = tls.getpeercert(binary_form=True)
        if der is None:
            raise FetchError("tls", ssl.SSLError("the server presented no certificate"))
        issuer = _issuer_name(tls.getpeercert() or {})
        return Handshake(certificate_der=der, tls_version=tls.version() or "unknown", issuer=issuer)
