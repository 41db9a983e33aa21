"""Key providers and the keyring the services use.

A `KeyProvider` wraps and unwraps per-subject data keys under versioned KEKs
and rotates them: stage a new version, activate it, retire an old one. Two
providers are shipped: the key file (`FileKeyProvider`) and a PKCS#11 token
(`ehrlich.crypto.pkcs11_provider`), which never reveals its KEKs. Both write
the same self-describing format (`ehrlich.crypto.envelope`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

from ehrlich.crypto import _primitives as p
from ehrlich.crypto.envelope import (
    HEADER_BYTES,
    FieldContext,
    SubjectFieldSealer,
    key_version,
    open_sealed,
    read_header,
    seal,
    subject_field_opener,
    subject_field_pairs,
    subject_field_sealer,
)
from ehrlich.crypto.keyfile import (
    KeyMaterial,
    activate_kek_version,
    add_kek_version,
    read_key_file,
    retire_kek_version,
)
from ehrlich.errors import ConfigurationError, IntegrityFailure

_CANARY = b"ehrlich key check v1"


def _dek_context(subject_id: str) -> FieldContext:
    return FieldContext(table="data_keys", field="dek", record_id=subject_id,
                        subject_id=subject_id)


_open_dek = subject_field_opener("data_keys", "dek")


@cache
def _dek_sealer(version: int) -> SubjectFieldSealer:
    """`seal` in `_dek_context`, its constant parts built once per KEK version."""
    return subject_field_sealer("data_keys", "dek", key_version=version)


class KeyProvider(Protocol):
    """Versioned KEKs behind wrap and unwrap, and their rotation.

    Rotation is `add_version` (a new KEK that unwraps but does not wrap yet),
    `activate` (new wraps use it), re-wrapping (the caller's), then `retire` of
    the old version. Changes made by another process are seen after `reload`;
    unwrapping meets an unknown version by reloading once.
    """

    @property
    def active_version(self) -> int: ...

    @property
    def location(self) -> str:
        """Where the KEKs are, for messages (never a secret)."""
        ...

    def versions(self) -> frozenset[int]: ...

    def wrap(self, data_key: bytes, *, context: FieldContext) -> bytes:
        """Seal under the active KEK."""
        ...

    def unwrap(self, wrapped: bytes, *, context: FieldContext) -> bytes: ...

    def unwrap_data_keys(self, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """Data keys of many subjects, (subject id, wrapped key) in, in order; a provider
        with a batch interface answers in one call."""
        ...

    def add_version(self) -> int:
        """Make a new KEK version, not yet active; returns its number."""
        ...

    def activate(self, version: int) -> None:
        """Wrap with `version` from now on (other versions keep unwrapping)."""
        ...

    def retire(self, version: int) -> None:
        """Destroy KEK `version`; refused for the active one. Irreversible."""
        ...

    def reload(self) -> None:
        """Pick up versions added, activated or retired by another process."""
        ...

    def close(self) -> None: ...


class FileKeyProvider:
    """KEKs from the key file; re-reads it once when it meets an unknown version,
    so servers keep reading while `ehrlich keys rotate` runs elsewhere."""

    def __init__(self, path: Path, material: KeyMaterial | None = None) -> None:
        self._path = path
        self._material = material or read_key_file(path)
        self._lock = threading.Lock()
        self._ciphers: dict[int, p.Aead] = {}

    @property
    def material(self) -> KeyMaterial:
        return self._material

    @property
    def active_version(self) -> int:
        return self._material.active

    @property
    def location(self) -> str:
        return f"the key file {self._path}"

    def versions(self) -> frozenset[int]:
        return frozenset(self._material.keks)

    def reload(self) -> None:
        with self._lock:
            self._material = read_key_file(self._path)
            self._ciphers = {v: c for v, c in self._ciphers.items()
                             if v in self._material.keks}

    def add_version(self) -> int:
        with self._lock:
            self._material = add_kek_version(self._path, activate=False)
            return max(self._material.keks)

    def activate(self, version: int) -> None:
        with self._lock:
            self._material = activate_kek_version(self._path, version)

    def retire(self, version: int) -> None:
        with self._lock:
            self._material = retire_kek_version(self._path, version)
            self._ciphers.pop(version, None)

    def close(self) -> None:
        """Nothing to release: the keys are plain bytes in this process."""

    def _kek(self, version: int) -> p.Aead:
        cipher = self._ciphers.get(version)
        if cipher is not None:
            return cipher
        kek = self._material.keks.get(version)
        if kek is None:
            self.reload()
            kek = self._material.keks.get(version)
        if kek is None:
            raise ConfigurationError(
                f"KEK version {version} is not in the key file {self._path}; "
                "restore the key file that belongs to this database"
            )
        cipher = self._ciphers[version] = p.Aead(kek)
        return cipher

    def wrap(self, data_key: bytes, *, context: FieldContext) -> bytes:
        version = self._material.active
        return seal(self._kek(version), data_key, context=context, key_version=version)

    def unwrap(self, wrapped: bytes, *, context: FieldContext) -> bytes:
        return open_sealed(self._kek(key_version(wrapped)), wrapped, context=context)

    def wrap_data_key(self, data_key: bytes, *, subject_id: str) -> bytes:
        """`wrap` in the data key's context, byte for byte, without building it per key
        (every new subject's key is wrapped)."""
        version = self._material.active
        return _dek_sealer(version)(self._kek(version), data_key, subject_id)

    def unwrap_data_keys(self, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        return [_open_dek(self._kek(key_version(wrapped)), wrapped, subject_id)
                for subject_id, wrapped in items]

    def open_fields(self, items: Sequence[tuple[str, bytes, bytes]], *, table: str,
                    field: str) -> list[bytes] | None:
        """`Keyring.open_fields` in one call when every data key is wrapped under one KEK
        version (the usual case); None otherwise, or when any item fails to open (the
        caller's per-item path then names the failure precisely)."""
        headers = {wrapped[:HEADER_BYTES] for _, wrapped, _ in items}
        if len(headers) != 1:
            return None
        try:
            return self._kek(key_version(items[0][1])).open_wrapped(
                subject_field_pairs(table, field)(items))
        except IntegrityFailure:
            return None


class Keyring:
    """The keys a process holds: the KEK provider and the derived secrets."""

    def __init__(self, provider: KeyProvider, *, index_key: bytes, audit_key: bytes,
                 token_key: bytes) -> None:
        self.provider = provider
        self._index_key = index_key
        self.audit_key = p.derive_key(audit_key, b"ehrlich audit chain v1")
        self._token_key = token_key
        self._index_keys: dict[str, bytes] = {}
        self._index_macs: dict[str, p.HmacSha256] = {}
        self._payloads = p.Aead(p.derive_key(token_key, b"ehrlich queued payload v1"))
        self._token_keys: dict[str, bytes] = {}  # a handful of link purposes

    @classmethod
    def from_key_file(cls, path: Path) -> Keyring:
        provider = FileKeyProvider(path)
        m = provider.material
        return cls(provider, index_key=m.index_key, audit_key=m.audit_key,
                   token_key=m.token_key)

    def new_data_key(self) -> bytes:
        return p.random_key()

    def wrap_data_key(self, data_key: bytes, *, subject_id: str) -> bytes:
        if isinstance(self.provider, FileKeyProvider):
            return self.provider.wrap_data_key(data_key, subject_id=subject_id)
        return self.provider.wrap(data_key, context=_dek_context(subject_id))

    def unwrap_data_key(self, wrapped: bytes, *, subject_id: str) -> bytes:
        return self.provider.unwrap(wrapped, context=_dek_context(subject_id))

    def open_fields(self, items: Sequence[tuple[str, bytes, bytes]], *, table: str,
                    field: str) -> list[tuple[str, str]]:
        """Open one field of many subjects: (subject id, wrapped data key, ciphertext) in,
        (subject id, plaintext) out, in order. For fields whose record is the subject."""
        if isinstance(self.provider, FileKeyProvider):
            plain = self.provider.open_fields(items, table=table, field=field)
            if plain is not None:
                return [(sid, value.decode())
                        for (sid, _, _), value in zip(items, plain, strict=True)]
        keys = self.provider.unwrap_data_keys([(sid, wrapped) for sid, wrapped, _ in items])
        opener = subject_field_opener(table, field)
        return [(sid, opener(p.Aead(key), blob, sid).decode())
                for (sid, _, blob), key in zip(items, keys, strict=True)]

    def seal_payload(self, purpose: str, record_id: str, payload: bytes) -> bytes:
        """Encrypt what waits in the job queue (the database's `jobs` table), so
        the queue holds no personal data in the clear; bound to its job and record."""
        return seal(self._payloads, payload, key_version=1,
                    context=FieldContext(table="jobs", field=purpose, record_id=record_id,
                                         subject_id=""))

    def open_payload(self, purpose: str, record_id: str, blob: bytes) -> bytes:
        return open_sealed(self._payloads, blob,
                           context=FieldContext(table="jobs", field=purpose,
                                                record_id=record_id, subject_id=""))

    def index_key(self, field: str) -> bytes:
        key = self._index_keys.get(field)
        if key is None:
            key = p.derive_key(self._index_key, b"ehrlich blind index v1 " + field.encode())
            self._index_keys[field] = key
        return key

    def index_mac(self, field: str) -> p.HmacSha256:
        """HMAC-SHA256 under `index_key(field)`, set up once for many values."""
        mac = self._index_macs.get(field)
        if mac is None:
            mac = self._index_macs[field] = p.HmacSha256(self.index_key(field))
        return mac

    def token_key(self, purpose: str) -> bytes:
        key = self._token_keys.get(purpose)
        if key is None:
            key = p.derive_key(self._token_key, b"ehrlich token v1 " + purpose.encode())
            self._token_keys[purpose] = key
        return key

    def close(self) -> None:
        self.provider.close()

    def key_check(self, version: int) -> bytes:
        """A sealed canary under KEK `version` (the active one), stored so wrong keys
        are caught at start-up, before any write."""
        if version != self.provider.active_version:
            raise ConfigurationError(f"a key check is made under the active KEK, "
                                     f"not version {version}")
        return self.provider.wrap(_CANARY, context=_dek_context("key-check"))

    def verify_key_check(self, blob: bytes) -> None:
        where = self.provider.location
        try:
            plain = self.provider.unwrap(blob, context=_dek_context("key-check"))
        except IntegrityFailure as exc:
            version = read_header(blob).key_version
            raise ConfigurationError(
                f"{where} does not match this database (KEK version {version} fails its "
                "check); point EHRLICH_KEY_FILE (or the PKCS#11 token settings) at this "
                "instance's keys"
            ) from exc
        if plain != _CANARY:
            raise ConfigurationError(f"{where} does not match this database")
