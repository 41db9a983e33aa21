"""The self-describing ciphertext format for personal fields and data keys.

    version (1) · algorithm (1) · key version (4, big-endian) · nonce (12) · ciphertext+tag

The associated data binds, each with a 4-byte length prefix, the header above,
the table, the field, the record id and the subject id: a ciphertext copied to
another row, field or subject fails authentication.

The cipher is anything with `Aead`'s two methods: an in-process AES-256-GCM key,
or a KEK that stays inside a PKCS#11 token. Both write the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ehrlich.crypto import _primitives as p
from ehrlich.errors import IntegrityFailure

FORMAT_VERSION = 1
ALG_AES_256_GCM = 1
_HEADER = struct.Struct(">BBI")
HEADER_BYTES = _HEADER.size
MIN_BYTES = HEADER_BYTES + p.NONCE_BYTES + p.TAG_BYTES


class Cipher(Protocol):
    """AES-256-GCM under one key: ciphertext with the 16-byte tag appended; `decrypt`
    raises `IntegrityFailure` on any failure."""

    def encrypt(self, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes: ...

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes: ...


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


@lru_cache(maxsize=512)
def _place(header: bytes, table: str, field: str) -> bytes:
    """The associated data's first parts: a handful of headers, tables and fields
    (names from the code, never values) recur for every record."""
    return length_prefixed(header, table.encode(), field.encode())


def _associated(header: bytes, context: FieldContext) -> bytes:
    # length_prefixed(header, table, field, record id, subject id), its constant start
    # built once: it runs for every field sealed or opened.
    record, subject = context.record_id.encode(), context.subject_id.encode()
    return b"".join((_place(header, context.table, context.field), _LENGTH(len(record)),
                     record, _LENGTH(len(subject)), subject))


def read_header(blob: bytes) -> Header:
    if len(blob) < MIN_BYTES:
        raise IntegrityFailure("ciphertext is truncated")
    version, algorithm, key_version = _HEADER.unpack_from(blob)
    if version != FORMAT_VERSION or algorithm != ALG_AES_256_GCM:
        raise IntegrityFailure(f"unknown ciphertext format {version}/{algorithm}")
    return Header(version, algorithm, key_version)


_KEY_VERSION = struct.Struct(">I")


def key_version(blob: bytes) -> int:
    """The header's key version, checked as `read_header` checks it."""
    if len(blob) < MIN_BYTES or blob[0] != FORMAT_VERSION or blob[1] != ALG_AES_256_GCM:
        return read_header(blob).key_version  # raises the precise error
    return int(_KEY_VERSION.unpack_from(blob, 2)[0])


SubjectFieldOpener = Callable[[Cipher, bytes, str], bytes]


def subject_field_opener(table: str, field: str) -> SubjectFieldOpener:
    """`open_sealed` for many ciphertexts of one table and field whose record id is
    their subject id (data keys, contact fields): opener(key, blob, subject_id).

    The associated data's constant parts are built once; it is byte for byte
    what `open_sealed` builds.
    """
    middle = length_prefixed(table.encode(), field.encode())
    header_length = _LENGTH(HEADER_BYTES)
    body_start = HEADER_BYTES + p.NONCE_BYTES

    def opener(key: Cipher, blob: bytes, subject_id: str) -> bytes:
        if len(blob) < MIN_BYTES or blob[0] != FORMAT_VERSION or blob[1] != ALG_AES_256_GCM:
            read_header(blob)  # raises the precise error
        subject = subject_id.encode()
        subject_part = _LENGTH(len(subject)) + subject
        associated = b"".join((header_length, blob[:HEADER_BYTES], middle, subject_part,
                               subject_part))
        return key.decrypt(blob[HEADER_BYTES:body_start], blob[body_start:], associated)

    return opener


SubjectFieldSealer = Callable[[Cipher, bytes, str], bytes]


def subject_field_sealer(table: str, field: str, *, key_version: int) -> SubjectFieldSealer:
    """`seal` for many fields of one table and field whose record id is their subject id
    (a bulk create's contact fields): sealer(key, plaintext, subject_id).

    The header and the associated data's constant parts are built once; the bytes
    are those `seal` writes (with a fresh nonce each time).
    """
    header = _HEADER.pack(FORMAT_VERSION, ALG_AES_256_GCM, key_version)
    start = _place(header, table, field)

    def sealer(key: Cipher, plaintext: bytes, subject_id: str) -> bytes:
        subject = subject_id.encode()
        subject_part = _LENGTH(len(subject)) + subject
        nonce = p.random_nonce()
        return b"".join((header, nonce, key.encrypt(
            nonce, plaintext, b"".join((start, subject_part, subject_part)))))

    return sealer


SubjectFieldsSealer = Callable[[Cipher, str, Sequence[bytes | None]], list[bytes | None]]


def subject_fields_sealer(table: str, fields: Sequence[str], *,
                          key_version: int) -> SubjectFieldsSealer:
    """`seal` for several fields of one subject under its key, whose record id is the
    subject id (a new subject's contact fields): sealer(key, subject_id, plaintexts),
    the plaintexts in the order of `fields`, None where a field has no value (and gets
    no blob). The subject's part of the associated data is built once for all of them;
    the bytes are those `seal` writes (with a fresh nonce each)."""
    header = _HEADER.pack(FORMAT_VERSION, ALG_AES_256_GCM, key_version)
    starts = [_place(header, table, field) for field in fields]
    join = b"".join

    def sealer(key: Cipher, subject_id: str, plaintexts: Sequence[bytes | None]
               ) -> list[bytes | None]:
        if len(plaintexts) != len(starts):
            raise ValueError(f"{len(plaintexts)} plaintexts for {len(starts)} fields")
        subject = subject_id.encode()
        part = _LENGTH(len(subject)) + subject
        part += part  # record id, then subject id: the same here
        encrypt = key.encrypt
        sealed: list[bytes | None] = []
        for start, plaintext in zip(starts, plaintexts, strict=True):
            if plaintext is None:
                sealed.append(None)
                continue
            nonce = p.random_nonce()
            sealed.append(join((header, nonce, encrypt(nonce, plaintext, start + part))))
        return sealed

    return sealer


SubjectFieldPairs = Callable[[Sequence[tuple[str, bytes, bytes]]], list[p.KeyAndMessage]]


def subject_field_pairs(table: str, field: str) -> SubjectFieldPairs:
    """For many subjects, (subject id, wrapped data key, field blob) in: for each, the
    data key's and the field's (nonce, ciphertext, associated data), in order, for
    `Aead.open_wrapped`. The associated data is byte for byte what `open_sealed` builds.
    The headers are not checked here: they are authenticated, so a blob of another format
    fails to open (`open_sealed` names what is wrong with it)."""
    key_middle = length_prefixed(b"data_keys", b"dek")
    middle = length_prefixed(table.encode(), field.encode())
    header_length = _LENGTH(HEADER_BYTES)
    start = HEADER_BYTES + p.NONCE_BYTES
    join = b"".join

    def pairs(items: Sequence[tuple[str, bytes, bytes]]) -> list[p.KeyAndMessage]:
        out: list[p.KeyAndMessage] = []
        append = out.append
        for subject_id, w, b in items:
            subject = subject_id.encode()
            part = _LENGTH(len(subject)) + subject
            append((w[HEADER_BYTES:start], w[start:],
                    join((header_length, w[:HEADER_BYTES], key_middle, part, part)),
                    b[HEADER_BYTES:start], b[start:],
                    join((header_length, b[:HEADER_BYTES], middle, part, part))))
        return out

    return pairs


def _cipher(key: bytes | Cipher) -> Cipher:
    return p.Aead(key) if isinstance(key, bytes) else key


def seal(key: bytes | Cipher, plaintext: bytes, *, context: FieldContext,
         key_version: int) -> bytes:
    """Encrypt; `key` may be a prepared cipher when sealing many fields under one key."""
    header = _HEADER.pack(FORMAT_VERSION, ALG_AES_256_GCM, key_version)
    nonce = p.random_nonce()
    return header + nonce + _cipher(key).encrypt(nonce, plaintext, _associated(header, context))


def open_sealed(key: bytes | Cipher, blob: bytes, *, context: FieldContext) -> bytes:
    if len(blob) < MIN_BYTES or blob[0] != FORMAT_VERSION or blob[1] != ALG_AES_256_GCM:
        read_header(blob)  # raises the precise error
    header = blob[:HEADER_BYTES]
    nonce = blob[HEADER_BYTES : HEADER_BYTES + p.NONCE_BYTES]
    body = blob[HEADER_BYTES + p.NONCE_BYTES :]
    return _cipher(key).decrypt(nonce, body, _associated(header, context))
