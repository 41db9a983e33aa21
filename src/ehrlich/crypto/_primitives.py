"""The only module that touches `cryptography.hazmat`.

Everything above it speaks in recipes (fields, data keys, blind indexes,
tokens). Every verification failure raises `IntegrityFailure`, never returns
garbage.
"""

from __future__ import annotations

import hashlib
import hmac as _hmac
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _chmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ehrlich.errors import IntegrityFailure

_FAILED = ("ciphertext failed authentication: it was altered, moved to another "
           "record or field, or the key is wrong")
KeyAndMessage = tuple[bytes, bytes, bytes, bytes, bytes, bytes]
"""Two AES-256-GCM messages as (nonce, ciphertext with tag, associated data) each: a
wrapped key, then a message sealed under that key."""

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


def random_key() -> bytes:
    return os.urandom(KEY_BYTES)  # what `secrets.token_bytes` returns, two calls sooner


def random_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


class Aead:
    """AES-256-GCM under one key, set up once for many fields."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def encrypt(self, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
        """Returns ciphertext with the 16-byte tag appended."""
        return self._cipher.encrypt(nonce, plaintext, associated)

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
        try:
            return self._cipher.decrypt(nonce, ciphertext, associated)
        except (InvalidTag, ValueError) as exc:
            raise IntegrityFailure(_FAILED) from exc

    def open_wrapped(self, items: Iterable[KeyAndMessage]) -> list[bytes]:
        """For each item, open its key under this key (a KEK), then its message under
        that key; the messages' plaintexts, in order. One call for a batch of subjects:
        no wrapper object or method call per key (this runs for every row of an audience)."""
        unwrap = self._cipher.decrypt
        try:
            return [AESGCM(unwrap(key_nonce, key_body, key_associated)).decrypt(
                nonce, body, associated)
                for key_nonce, key_body, key_associated, nonce, body, associated in items]
        except (InvalidTag, ValueError) as exc:
            raise IntegrityFailure(_FAILED) from exc


def aead_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
    return Aead(key).encrypt(nonce, plaintext, associated)


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    return Aead(key).decrypt(nonce, ciphertext, associated)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    mac = _chmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


_SHA256_BLOCK = 64
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key for many messages: the padded key's two
    blocks are hashed once and each message continues copies of those states, as the
    standard library's `hmac.HMAC` does without OpenSSL's one-shot HMAC (which looks
    the digest up anew on every call). The same bytes as `hmac_sha256`."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_INNER_PAD))
        self._outer = hashlib.sha256(block.translate(_OUTER_PAD))

    def digest(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return _hmac.compare_digest(a, b)


def derive_key(root: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 with an empty salt: one independent key per `info` label."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(root)


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def ed25519_generate() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (32-byte private seed, 32-byte public key)."""
    private = Ed25519PrivateKey.generate()
    return (private.private_bytes_raw(), private.public_key().public_bytes_raw())


def ed25519_public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_sign(seed: bytes, data: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).sign(data)


def ed25519_verify(public: bytes, signature: bytes, data: bytes) -> None:
    """Raises `IntegrityFailure` unless `signature` is `public`'s over `data`."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError) as exc:
        raise IntegrityFailure("the signature does not match: the data was altered or "
                               "signed with another key") from exc


def rsa_public_key_of_pem(private_key_pem: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a PEM RSA private key; `ValueError` for anything
    else or a key that does not parse."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
