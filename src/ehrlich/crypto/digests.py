"""Recipes for MACs, digests and comparisons outside `crypto`: the algorithm is chosen here.

HMAC-SHA256 for keyed MACs (token hashes, throttle keys, the audit chain),
SHA-256 for unkeyed digests, a constant-time comparison for anything secret,
and HKDF-SHA256 for one independent sub-key per label. Other packages import
these names, never `crypto._primitives`.
"""

from __future__ import annotations

from ehrlich.crypto import _primitives

KEY_BYTES = _primitives.KEY_BYTES


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """The keyed MAC of `data` (32 bytes)."""
    return _primitives.hmac_sha256(key, data)


def sha256(data: bytes) -> bytes:
    """The digest of `data` (32 bytes); for secrets with enough entropy of their own."""
    return _primitives.sha256(data)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare secrets (MACs, token hashes) without leaking where they differ."""
    return _primitives.constant_time_equal(a, b)


def derive_key(root: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """One independent key per `info` label (HKDF-SHA256, empty salt)."""
    return _primitives.derive_key(root, info, length)
