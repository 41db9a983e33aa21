"""Ed25519 signatures (RFC 8032) for things that leave the machine, e.g. backup manifests.

Key formats are one text line each, so they sit in configuration and files:
the public key `ed25519:<base64 of 32 bytes>`, the private key file a
commented text file holding `EHRLICH-ED25519-SECRET:<base64 of the 32-byte seed>`.
Every verification failure raises `SignatureInvalid`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ehrlich.crypto import _primitives
from ehrlich.errors import ConfigurationError, IntegrityFailure

PUBLIC_PREFIX = "ed25519:"
SECRET_PREFIX = "EHRLICH-ED25519-SECRET:"  # noqa: S105 - a format marker, not a secret


class SignatureInvalid(IntegrityFailure):
    title = "Signature invalid"


def _decode(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{what} is not valid base64") from exc
    if len(raw) != 32:
        raise ConfigurationError(f"{what} must hold 32 bytes, not {len(raw)}")
    return raw


@dataclass(frozen=True, repr=False)
class SigningKey:
    """A private Ed25519 key; never printed."""

    _seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(_primitives.ed25519_generate()[0])

    @classmethod
    def from_text(cls, text: str, *, source: str) -> SigningKey:
        lines = [line.strip() for line in text.splitlines()
                 if line.strip().startswith(SECRET_PREFIX)]
        if len(lines) != 1:
            raise ConfigurationError(f"{source} holds no signing key (a line "
                                     f"{SECRET_PREFIX}...)")
        return cls(_decode(lines[0].removeprefix(SECRET_PREFIX), f"the key in {source}"))

    def to_text(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self._seed).decode()

    @property
    def public_key(self) -> str:
        return PUBLIC_PREFIX + base64.b64encode(_primitives.ed25519_public(self._seed)).decode()

    def sign(self, data: bytes) -> str:
        """The signature of `data`, base64."""
        return base64.b64encode(_primitives.ed25519_sign(self._seed, data)).decode()

    def __repr__(self) -> str:
        return f"SigningKey({self.public_key})"


def parse_public_key(value: str, *, setting: str) -> bytes:
    """The 32 raw bytes of an `ed25519:...` public key; a clear error names the setting."""
    if not value.startswith(PUBLIC_PREFIX):
        raise ConfigurationError(f"{setting} must look like {PUBLIC_PREFIX}<base64>")
    return _decode(value.removeprefix(PUBLIC_PREFIX), setting)


def verify_signature(public_key: bytes, signature: str, data: bytes) -> None:
    """Raises `SignatureInvalid` unless `signature` (base64) signs `data` under the key."""
    try:
        raw = base64.b64decode(signature, validate=True)
        _primitives.ed25519_verify(public_key, raw, data)
    except (binascii.Error, ValueError, IntegrityFailure) as exc:
        raise SignatureInvalid("the signature does not match: the data was altered or "
                               "signed with another key") from exc
