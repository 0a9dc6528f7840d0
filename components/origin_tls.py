"""What a regional gateway needs to serve the catalog over TLS to Cloudflare only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class OriginTls:
    # The origin's certificate (a Cloudflare Origin CA certificate for the catalog hostname).
    certificate_pem: pulumi.Input[str]
    # Its private key: always a secret Output.
    private_key_pem: pulumi.Input[str]
    # The CA that signs the client certificate Cloudflare presents on authenticated
    # origin pulls; the gateway accepts only clients it signed.
    client_ca_pem: pulumi.Input[str]
