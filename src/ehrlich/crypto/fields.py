"""Field encryption under a subject's data key."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ehrlich.crypto._primitives import Aead
from ehrlich.crypto.envelope import (
    FieldContext,
    SubjectFieldSealer,
    SubjectFieldsSealer,
    open_sealed,
    seal,
    subject_field_sealer,
    subject_fields_sealer,
)

DATA_KEY_VERSION = 1


@cache  # a handful of (table, field) pairs, all named in the code
def _sealer(table: str, field: str) -> SubjectFieldSealer:
    return subject_field_sealer(table, field, key_version=DATA_KEY_VERSION)


@cache  # a handful of (table, fields), all named in the code
def _fields_sealer(table: str, fields: tuple[str, ...]) -> SubjectFieldsSealer:
    return subject_fields_sealer(table, fields, key_version=DATA_KEY_VERSION)


class FieldCipher:
    """A subject's data key, set up once to seal or open several fields."""

    __slots__ = ("_aead",)

    def __init__(self, data_key: bytes) -> None:
        self._aead = Aead(data_key)

    def encrypt(self, plaintext: str, *, context: FieldContext) -> bytes:
        return seal(self._aead, plaintext.encode(), context=context,
                    key_version=DATA_KEY_VERSION)

    def encrypt_subject_field(self, plaintext: str, *, table: str, field: str,
                              subject_id: str) -> bytes:
        """`encrypt` in the context (table, field, subject_id, subject_id), byte for byte,
        with the constant parts built once (bulk creates seal four fields per row)."""
        return _sealer(table, field)(self._aead, plaintext.encode(), subject_id)

    def encrypt_subject_fields(self, plaintexts: Sequence[str | None], *, table: str,
                               fields: tuple[str, ...], subject_id: str
                               ) -> list[bytes | None]:
        """`encrypt_subject_field` of each field with a value, in the order of `fields`
        (None stays None): a new subject's contact fields in one call."""
        return _fields_sealer(table, fields)(
            self._aead, subject_id,
                      [None if text is None else text.encode() for text in plaintexts])

    def decrypt(self, blob: bytes, *, context: FieldContext) -> str:
        return open_sealed(self._aead, blob, context=context).decode()


def encrypt_field(data_key: bytes, plaintext: str, *, context: FieldContext) -> bytes:
    return FieldCipher(data_key).encrypt(plaintext, context=context)


def decrypt_field(data_key: bytes, blob: bytes, *, context: FieldContext) -> str:
    return FieldCipher(data_key).decrypt(blob, context=context)
