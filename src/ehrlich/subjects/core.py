"""What every part of `SubjectsService` shares: the keyring and audit log it holds, and
how a subject's fields are sealed under its data key, opened and loaded.

`SubjectsCore` is not used on its own; `SubjectsService` is built from it with
`BulkCreation` (subjects.bulk) and `ContactViews` (subjects.contact_views).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.crypto import FieldCipher, FieldContext, Keyring, blind_index, key_version
from ehrlich.errors import InvalidInput
from ehrlich.storage.base import new_id
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.ledger import ErasureLedger, ErasureRecord
from ehrlich.subjects.models import STATE_ACTIVE, STATE_ERASED, Subject
from ehrlich.subjects.normalize import normalise_email, normalise_phone
from ehrlich.subjects.queries import LOAD_SUBJECT, LOAD_SUBJECT_FOR_UPDATE
from ehrlich.subjects.schemas import SubjectInput, SubjectView

TABLE = "subjects"
ENCRYPTED_FIELDS = ("email", "name", "phone", "attributes")
LOOKUP_CHUNK = 500
_COMPACT = json.JSONEncoder(separators=(",", ":"))
"""`json.dumps(value, separators=(",", ":"))`, its encoder made once rather than per call."""
ErasureHook = Callable[[Session, ErasureRecord], Iterable[AuditEvent] | None]
"""Runs in the erasure's transaction (and for every ledger record on replay); other
domains use it to keep what must outlive the person, e.g. a suppression entry, or to
end what the person no longer has, e.g. open consents. The audit entries it returns
are recorded with the erasure's own."""

RectificationHook = Callable[[Session, str, Sequence[str], datetime], None]
"""Runs in a rectification's transaction with the subject id, the names of the fields
changed and the time: other domains use it to tell those who hold a copy (GDPR Art. 19)."""

ErasureBatchHook = Callable[[Session, Sequence[ErasureRecord]], Iterable[AuditEvent] | None]
"""An erasure hook for many records at once (set-based), as `erase_many` runs it."""


def batch_hook(many: ErasureBatchHook) -> ErasureHook:
    """An erasure hook from its batch variant: `erase_many` and the replay call `many`
    once for all their records, a single erasure with its one record."""
    def hook(session: Session, record: ErasureRecord) -> Iterable[AuditEvent] | None:
        return many(session, [record])
    hook.many = many  # type: ignore[attr-defined]
    hook.__name__ = hook.__qualname__ = getattr(many, "__name__", "hook")
    hook.__doc__ = many.__doc__
    return hook


def run_erasure_hooks(hooks: Iterable[ErasureHook], session: Session,
                      records: Sequence[ErasureRecord]) -> list[AuditEvent]:
    """Each hook over `records` (once, if it has a batch variant); their audit entries."""
    events: list[AuditEvent] = []
    for hook in hooks:
        many: ErasureBatchHook | None = getattr(hook, "many", None)
        if many is not None:
            events.extend(many(session, records) or ())
        else:
            for record in records:
                events.extend(hook(session, record) or ())
    return events


@dataclass(frozen=True)
class _Contact:
    email: str | None
    phone: str | None
    email_index: bytes | None
    phone_index: bytes | None


def _context(subject_id: str, field: str) -> FieldContext:
    return FieldContext(table=TABLE, field=field, record_id=subject_id, subject_id=subject_id)


class SubjectsCore:
    """The keys, the audit log and the erasure ledger, with the helpers that seal, open and
    load a subject's fields."""

    def __init__(self, keyring: Keyring, audit: AuditLog, ledger: ErasureLedger, *,
                 phone_region: str | None = None,
                 erasure_hooks: Sequence[ErasureHook] = (),
                 rectification_hooks: Sequence[RectificationHook] = ()) -> None:
        self._keyring = keyring
        self._audit = audit
        self._ledger = ledger
        self._phone_region = phone_region
        self._erasure_hooks = tuple(erasure_hooks)
        self._rectification_hooks = tuple(rectification_hooks)

    @property
    def erasure_hooks(self) -> tuple[ErasureHook, ...]:
        """What runs with each erasure and each replayed one (registered by the domains)."""
        return self._erasure_hooks

    # -- internals ---------------------------------------------------------------

    def _contact(self, email: str | None, phone: str | None) -> _Contact:
        email = email.strip() if email is not None else None
        phone_e164 = normalise_phone(phone, region=self._phone_region) if phone else None
        email_index = (blind_index(self._keyring, "email", normalise_email(email))
                       if email else None)
        phone_index = blind_index(self._keyring, "phone", phone_e164) if phone_e164 else None
        return _Contact(email or None, phone_e164, email_index, phone_index)

    def _seal(self, subject_id: str, cipher: FieldCipher, field: str, value: Any
              ) -> bytes | None:
        if value is None:
            return None
        plain = _COMPACT.encode(value) if field == "attributes" else str(value)
        # in _context(subject_id, field), its constant parts built once
        return cipher.encrypt_subject_field(plain, table=TABLE, field=field,
                                            subject_id=subject_id)

    def _open(self, subject: Row[Any], cipher: FieldCipher, field: str) -> Any:
        blob = getattr(subject, f"{field}_ct")
        if blob is None:
            return {} if field == "attributes" else None
        plain = cipher.decrypt(blob, context=_context(subject.id, field))
        return json.loads(plain) if field == "attributes" else plain

    def _view(self, subject: Row[Any], cipher: FieldCipher) -> SubjectView:
        values = {f: self._open(subject, cipher, f) for f in ENCRYPTED_FIELDS}
        return SubjectView(id=subject.id, state=subject.state, source=subject.source,
                           obtained_at=subject.obtained_at, created_at=subject.created_at,
                           updated_at=subject.updated_at, **values)

    def _load(self, session: Session, subject_id: str, *, lock: bool = False
              ) -> tuple[Row[Any], FieldCipher]:
        query = LOAD_SUBJECT_FOR_UPDATE if lock else LOAD_SUBJECT
        row = session.connection().execute(query, {"subject_id": subject_id}).first()
        if row is None:
            raise SubjectNotFound(f"no subject with id {subject_id}")
        if row.state == STATE_ERASED or row.wrapped is None:
            raise SubjectErased(f"subject {subject_id} was erased")
        return row, FieldCipher(self._keyring.unwrap_data_key(row.wrapped, subject_id=row.id))

    def _new_rows(self, data: SubjectInput, contact: _Contact, now: datetime
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
        subject_id = new_id()
        data_key = self._keyring.new_data_key()
        email_ct, name_ct, phone_ct, attributes_ct = FieldCipher(
            data_key).encrypt_subject_fields(
                (contact.email, data.name, contact.phone,
                 None if data.attributes is None else _COMPACT.encode(data.attributes)),
                table=TABLE, fields=ENCRYPTED_FIELDS, subject_id=subject_id)
        subject_row = {
            "id": subject_id, "state": STATE_ACTIVE, "source": data.source,
            "obtained_at": data.obtained_at or now, "created_at": now, "updated_at": now,
            "erased_at": None, "email_index": contact.email_index,
            "phone_index": contact.phone_index,
            "email_ct": email_ct, "name_ct": name_ct, "phone_ct": phone_ct,
            "attributes_ct": attributes_ct,
        }
        # the version the provider sealed with, which may have moved on since it was asked
        wrapped = self._keyring.wrap_data_key(data_key, subject_id=subject_id)
        key_row = {"subject_id": subject_id, "kek_version": key_version(wrapped),
                   "wrapped": wrapped, "created_at": now}
        return subject_row, key_row

    def _by_email_index(self, session: Session, email_index: bytes) -> Subject | None:
        return session.execute(
            select(Subject).where(Subject.email_index == email_index)
        ).scalar_one_or_none()

    def search_ids(self, session: Session, *, email: str | None = None,
                   phone: str | None = None) -> list[str]:
        """Ids of active subjects with this exact email or phone (blind index only)."""
        if bool(email) == bool(phone):
            raise InvalidInput.one("email", "give exactly one of email or phone")
        contact = self._contact(email, phone)
        query = select(Subject.id).where(Subject.state == STATE_ACTIVE)
        if contact.email_index is not None:
            query = query.where(Subject.email_index == contact.email_index)
        else:
            query = query.where(Subject.phone_index == contact.phone_index)
        return list(session.execute(query.order_by(Subject.created_at).limit(100)).scalars())
