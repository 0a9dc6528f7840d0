"""The expiry date of an X.509 certificate, read from its DER bytes.

The standard library decodes a peer certificate only after verifying its chain, but
`ops smoke` must also say when an untrusted or already expired certificate expires,
so it walks just enough DER to reach `tbsCertificate.validity.notAfter` (RFC 5280).

Why not `cryptography` (`x509.load_der_x509_certificate(der).not_valid_after_utc`, one
call): `ops smoke` runs with the standard library alone, so that the job right after a
deploy starts in a second on any Python, with nothing installed; tests/ops/live/test_x509.py
checks this reader against certificates openssl made."""

from __future__ import annotations

from datetime import UTC, datetime

_SEQUENCE = 0x30
_EXPLICIT_VERSION = 0xA0  # [0] EXPLICIT Version, present on every v2/v3 certificate
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18


def certificate_not_after(der: bytes) -> datetime:
    """The certificate's notAfter as an aware UTC datetime; ValueError if `der` is not
    a certificate this reader understands."""
    try:
        return _not_after(der)
    except (IndexError, UnicodeDecodeError) as error:
        raise ValueError(f"malformed certificate: {error}") from error


def _not_after(der: bytes) -> datetime:
    tag, start, end = _element(der, 0, len(der))
    _expect(tag, _SEQUENCE, "Certificate")
    tag, start, end = _element(der, start, end)
    _expect(tag, _SEQUENCE, "tbsCertificate")
    fields = _children(der, start, end)
    if fields and fields[0][0] == _EXPLICIT_VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, ...
    if len(fields) < 4:
        raise ValueError("malformed certificate: tbsCertificate has no validity")
    tag, start, end = fields[3]
    _expect(tag, _SEQUENCE, "validity")
    validity = _children(der, start, end)
    if len(validity) != 2:
        raise ValueError("malformed certificate: validity is not (notBefore, notAfter)")
    tag, start, end = validity[1]
    return _time(tag, der[start:end].decode("ascii"))


def _element(data: bytes, offset: int, limit: int) -> tuple[int, int, int]:
    """(tag, first content byte, end of contents) of the DER element at `offset`."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("malformed certificate: unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > limit:
        raise ValueError("malformed certificate: element runs past its parent")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    children = []
    while start < end:
        child = _element(data, start, end)
        children.append(child)
        start = child[2]
    return children


def _expect(tag: int, expected: int, what: str) -> None:
    if tag != expected:
        raise ValueError(f"malformed certificate: {what} has tag {tag:#04x}, expected {expected:#04x}")


def _time(tag: int, text: str) -> datetime:
    if tag == _UTC_TIME:
        # RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19xx, 00-49 are 20xx.
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    elif tag != _GENERALIZED_TIME:
        raise ValueError(f"malformed certificate: notAfter has tag {tag:#04x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
