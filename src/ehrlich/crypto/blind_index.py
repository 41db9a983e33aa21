"""Keyed blind indexes: equality lookup on encrypted values.

HMAC-SHA256 of the already-normalised value under a key derived per field, so
an email index cannot be matched against a phone index, and a database dump
alone cannot be brute-forced without the key file.
"""

from __future__ import annotations

from ehrlich.crypto.keyring import Keyring


def blind_index(keyring: Keyring, field: str, normalised: str) -> bytes:
    return keyring.index_mac(field).digest(normalised.encode())
