"""A throwaway certificate authority made by the openssl CLI, and the server certificates
`ops smoke` and its certificate reader are tested with (catalog.test, 127.0.0.1)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

HOST = "catalog.test"

# --- Certificates --------------------------------------------------------------------

_CA_CONFIG = """
[ca]
default_ca = smoke
[smoke]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_subject
unique_subject = no
x509_extensions = catalog
[any_subject]
commonName = supplied
[catalog]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:catalog.test, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[elsewhere]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:elsewhere.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=20)


def _asn1_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


@dataclass(frozen=True)
class ServerCertificate:
    chain: Path
    key: Path


class CertificateAuthority:
    """A throwaway CA that issues certificates with any validity window, past ones included."""

    def __init__(self, directory: Path, name: str, leaf_key: Path, leaf_request: Path) -> None:
        directory.mkdir()
        self.directory = directory
        self.certificate = directory / "ca.pem"
        self._leaf_key, self._leaf_request = leaf_key, leaf_request
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "3", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=directory,
        )  # fmt: skip
        (directory / "ca.cnf").write_text(_CA_CONFIG)
        (directory / "index.txt").write_text("")
        (directory / "serial").write_text("01\n")

    def issue(self, name: str, not_before: datetime, not_after: datetime, names: str = "catalog") -> ServerCertificate:
        chain = self.directory / f"{name}.pem"
        _openssl(
            "ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
            "-extensions", names, "-startdate", _asn1_time(not_before), "-enddate", _asn1_time(not_after),
            "-in", str(self._leaf_request), "-out", str(chain),
            cwd=self.directory,
        )  # fmt: skip
        return ServerCertificate(chain=chain, key=self._leaf_key)


@dataclass(frozen=True)
class Pki:
    ca_file: Path  # what ops smoke is told to trust
    valid: ServerCertificate  # 90 days left
    expiring: ServerCertificate  # 5 days left
    expired: ServerCertificate  # expired 2 days ago
    untrusted: ServerCertificate  # signed by a CA ops smoke does not trust
    wrong_name: ServerCertificate  # for elsewhere.test
    far_future: ServerCertificate  # notAfter past 2049, so DER GeneralizedTime


def make_pki(directory: Path) -> Pki:
    key, request = directory / "catalog.key", directory / "catalog.csr"
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(request), "-subj", f"/CN={HOST}",
        cwd=directory,
    )  # fmt: skip
    trusted = CertificateAuthority(directory / "trusted", "Smoke Test CA", key, request)
    rogue = CertificateAuthority(directory / "rogue", "Rogue CA", key, request)
    now = datetime.now(UTC)
    return Pki(
        ca_file=trusted.certificate,
        valid=trusted.issue("valid", now - timedelta(days=1), now + timedelta(days=90)),
        expiring=trusted.issue("expiring", now - timedelta(days=1), now + timedelta(days=5)),
        expired=trusted.issue("expired", now - timedelta(days=30), now - timedelta(days=2)),
        untrusted=rogue.issue("untrusted", now - timedelta(days=1), now + timedelta(days=90)),
        wrong_name=trusted.issue("wrong-name", now - timedelta(days=1), now + timedelta(days=90), "elsewhere"),
        far_future=trusted.issue("far-future", now - timedelta(days=1), datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)),
    )
