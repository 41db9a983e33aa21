"""Field encryption under a subject's data key."""

from __future__ import annotations

from collections.abc import Sequence

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
_SEALERS: dict[tuple[str, str], SubjectFieldSealer] = {}
_MANY_SEALERS: dict[tuple[str, tuple[str, ...]], SubjectFieldsSealer] = {}


def _sealer(table: str, field: str) -> SubjectFieldSealer:
    sealer = _SEALERS.get((table, field))
    if sealer is None:  # a handful of (table, field) pairs, all named in the code
        sealer = _SEALERS[table, field] = subject_field_sealer(
            table, field, key_version=DATA_KEY_VERSION)
    return sealer


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
        sealer = _MANY_SEALERS.get((table, fields))
        if sealer is None:  # a handful of (table, fields), all named in the code
            sealer = _MANY_SEALERS[table, fields] = subject_fields_sealer(
                table, fields, key_version=DATA_KEY_VERSION)
        return sealer(self._aead, subject_id,
                      [None if text is None else text.encode() for text in plaintexts])

    def decrypt(self, blob: bytes, *, context: FieldContext) -> str:
        return open_sealed(self._aead, blob, context=context).decode()


def encrypt_field(data_key: bytes, plaintext: str, *, context: FieldContext) -> bytes:
    return FieldCipher(data_key).encrypt(plaintext, context=context)


def decrypt_field(data_key: bytes, blob: bytes, *, context: FieldContext) -> str:
    return FieldCipher(data_key).decrypt(blob, context=context)
