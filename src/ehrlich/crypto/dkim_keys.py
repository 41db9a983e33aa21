"""The DNS record that publishes a DKIM signing key (RFC 6376 §3.6.1): what the mail
domain's owner puts at `<selector>._domainkey.<domain>`. ehrlich signs with RSA-SHA256."""

from __future__ import annotations

import base64

from ehrlich.crypto import _primitives
from ehrlich.errors import ConfigurationError


def dkim_dns_record(private_key_pem: bytes) -> str:
    """`v=DKIM1; k=rsa; p=<base64>` for the key's public half; raises
    `ConfigurationError` for a file that holds no RSA private key."""
    try:
        public = _primitives.rsa_public_key_of_pem(private_key_pem)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError("the DKIM key file holds no RSA private key (PEM, without "
                                 "a passphrase)") from exc
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
