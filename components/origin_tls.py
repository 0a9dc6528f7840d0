"""What a regional gateway needs to serve the catalog over TLS to Cloudflare only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.settings import StackSettings


@dataclass(frozen=True)
class OriginTls:
    # The origin's certificate (a Cloudflare Origin CA certificate for the catalog hostname).
    certificate_pem: pulumi.Input[str]
    # Its private key: always a secret Output.
    private_key_pem: pulumi.Input[str]
    # The CA that signs the client certificate Cloudflare presents on authenticated
    # origin pulls; the gateway accepts only clients it signed.
    client_ca_pem: pulumi.Input[str]


def self_signed_origin_tls(name: str, settings: StackSettings) -> OriginTls:
    """A stand-in origin certificate until the edge's Cloudflare Origin CA certificate lands.

    TEMPORARY, workloads branch only: at merge the integrator replaces the call in
    __main__.py with the edge's `OriginCertificate(...).tls` and deletes this function.

    It fails closed: the certificate is its own client CA, so the gateways accept no
    client until the real origin-pull CA replaces it; nothing is served half-secured.
    """
    import pulumi_tls as tls

    key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256")
    certificate = tls.SelfSignedCert(
        f"{name}-certificate",
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=settings.hostname, organization="Marketplace"),
        dns_names=[settings.hostname],
        validity_period_hours=24 * 90,
        early_renewal_hours=24 * 30,
        allowed_uses=["digital_signature", "key_encipherment", "server_auth", "client_auth", "cert_signing"],
        is_ca_certificate=True,
    )
    return OriginTls(
        certificate_pem=certificate.cert_pem,
        private_key_pem=pulumi.Output.secret(key.private_key_pem),
        client_ca_pem=certificate.cert_pem,
    )
