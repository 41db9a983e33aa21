"""Field encryption under a subject's data key."""

from __future__ import annotations

from ehrlich.crypto._primitives import Aead
from ehrlich.crypto.envelope import FieldContext, open_sealed, seal

DATA_KEY_VERSION = 1


class FieldCipher:
    """A subject's data key, set up once to seal or open several fields."""

    __slots__ = ("_aead",)

    def __init__(self, data_key: bytes) -> None:
        self._aead = Aead(data_key)

    def encrypt(self, plaintext: str, *, context: FieldContext) -> bytes:
        return seal(self._aead, plaintext.encode(), context=context,
                    key_version=DATA_KEY_VERSION)

    def decrypt(self, blob: bytes, *, context: FieldContext) -> str:
        return open_sealed(self._aead, blob, context=context).decode()


def encrypt_field(data_key: bytes, plaintext: str, *, context: FieldContext) -> bytes:
    return FieldCipher(data_key).encrypt(plaintext, context=context)


def decrypt_field(data_key: bytes, blob: bytes, *, context: FieldContext) -> str:
    return FieldCipher(data_key).decrypt(blob, context=context)
