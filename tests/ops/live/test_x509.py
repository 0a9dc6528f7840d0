"""ops/live/x509.py: the expiry of a certificate, read from its DER bytes."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import pytest

from ops.live.x509 import certificate_not_after
from tests.ops.live.pki import Pki, ServerCertificate


def test_expiry_is_read_from_both_der_time_encodings(pki: Pki) -> None:
    def der(certificate: ServerCertificate) -> bytes:
        return ssl.PEM_cert_to_DER_cert(certificate.chain.read_text())

    # Up to 2049 a certificate encodes notAfter as UTCTime, later as GeneralizedTime.
    assert certificate_not_after(der(pki.far_future)) == datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    left = certificate_not_after(der(pki.expiring)) - datetime.now(UTC)
    assert timedelta(days=4, hours=23) < left <= timedelta(days=5)
    with pytest.raises(ValueError, match="malformed certificate"):
        certificate_not_after(der(pki.valid)[:200])
