"""Field encryption under a subject's data key."""

from __future__ import annotations

from ehrlich.crypto.envelope import FieldContext, open_sealed, seal

DATA_KEY_VERSION = 1


def encrypt_field(data_key: bytes, plaintext: str, *, context: FieldContext) -> bytes:
    return seal(data_key, plaintext.encode(), context=context, key_version=DATA_KEY_VERSION)


def decrypt_field(data_key: bytes, blob: bytes, *, context: FieldContext) -> str:
    return open_sealed(data_key, blob, context=context).decode()
