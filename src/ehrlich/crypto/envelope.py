"""The self-describing ciphertext format for personal fields and data keys.

    version (1) · algorithm (1) · key version (4, big-endian) · nonce (12) · ciphertext+tag

The associated data binds, each with a 4-byte length prefix, the header above,
the table, the field, the record id and the subject id: a ciphertext copied to
another row, field or subject fails authentication.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ehrlich.crypto import _primitives as p
from ehrlich.errors import IntegrityFailure

FORMAT_VERSION = 1
ALG_AES_256_GCM = 1
_HEADER = struct.Struct(">BBI")
HEADER_BYTES = _HEADER.size
MIN_BYTES = HEADER_BYTES + p.NONCE_BYTES + p.TAG_BYTES


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a ciphertext lives; it is authenticated with the ciphertext."""

    table: str
    field: str
    record_id: str
    subject_id: str


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    algorithm: int
    key_version: int


_LENGTH = struct.Struct(">I").pack


def length_prefixed(*parts: bytes) -> bytes:
    """Unambiguous concatenation: each part preceded by its 4-byte length."""
    out = bytearray()
    for part in parts:
        out += _LENGTH(len(part))
        out += part
    return bytes(out)


def _associated(header: bytes, context: FieldContext) -> bytes:
    return length_prefixed(
        header,
        context.table.encode(),
        context.field.encode(),
        context.record_id.encode(),
        context.subject_id.encode(),
    )


def read_header(blob: bytes) -> Header:
    if len(blob) < MIN_BYTES:
        raise IntegrityFailure("ciphertext is truncated")
    version, algorithm, key_version = _HEADER.unpack_from(blob)
    if version != FORMAT_VERSION or algorithm != ALG_AES_256_GCM:
        raise IntegrityFailure(f"unknown ciphertext format {version}/{algorithm}")
    return Header(version, algorithm, key_version)


def _cipher(key: bytes | p.Aead) -> p.Aead:
    return key if isinstance(key, p.Aead) else p.Aead(key)


def seal(key: bytes | p.Aead, plaintext: bytes, *, context: FieldContext,
         key_version: int) -> bytes:
    """Encrypt; `key` may be a prepared `Aead` when sealing many fields under one key."""
    header = _HEADER.pack(FORMAT_VERSION, ALG_AES_256_GCM, key_version)
    nonce = p.random_nonce()
    return header + nonce + _cipher(key).encrypt(nonce, plaintext, _associated(header, context))


def open_sealed(key: bytes | p.Aead, blob: bytes, *, context: FieldContext) -> bytes:
    read_header(blob)
    header = blob[:HEADER_BYTES]
    nonce = blob[HEADER_BYTES : HEADER_BYTES + p.NONCE_BYTES]
    body = blob[HEADER_BYTES + p.NONCE_BYTES :]
    return _cipher(key).decrypt(nonce, body, _associated(header, context))
