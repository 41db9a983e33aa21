"""The subjects service: the only code that sees plaintext personal data.

Every field is encrypted under the subject's own data key before it reaches
the database; the data key is wrapped by the KEK. Every plaintext read, write
and erasure appends to the audit chain in the same transaction. Mail to a subject
is addressed here too (`send_mail`): other domains hold a `Recipient`, never the
address.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.crypto import FieldCipher, FieldContext, Keyring, blind_index, key_version
from ehrlich.errors import InvalidInput
from ehrlich.mail.interfaces import Letter, MailSender
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import (
    DuplicateContact,
    SubjectErased,
    SubjectNotFound,
    UnknownEmail,
)
from ehrlich.subjects.ledger import ErasureLedger, ErasureRecord
from ehrlich.subjects.masking import mask_email, mask_name, mask_phone, mask_value
from ehrlich.subjects.models import STATE_ACTIVE, STATE_ERASED, DataKey, Subject, SubjectNote
from ehrlich.subjects.normalize import normalise_email, normalise_phone
from ehrlich.subjects.schemas import (
    BulkOutcome,
    CreateOutcome,
    MaskedContact,
    MaskedSubject,
    NoteInput,
    NoteView,
    SubjectChanges,
    SubjectInput,
    SubjectView,
)

TABLE = "subjects"
_SUBJECTS = cast(Table, Subject.__table__)
_DATA_KEYS = cast(Table, DataKey.__table__)
# Built once: every read runs it, and statement construction is not free.
_LOAD = (select(_SUBJECTS, _DATA_KEYS.c.wrapped).select_from(_SUBJECTS.outerjoin(_DATA_KEYS))
         .where(_SUBJECTS.c.id == bindparam("subject_id")))
_LOAD_FOR_UPDATE = _LOAD.with_for_update(of=_SUBJECTS)
ENCRYPTED_FIELDS = ("email", "name", "phone", "attributes")
CONTACT_FIELDS = ("email", "phone")
# What an erased subject row keeps of its personal data: nothing.
_ERASED: dict[str, Any] = {"state": STATE_ERASED, "email_index": None, "phone_index": None,
                           **{f"{field}_ct": None for field in ENCRYPTED_FIELDS}}
_LOOKUP_CHUNK = 500
ErasureHook = Callable[[Session, ErasureRecord], None]
"""Runs in the erasure's transaction (and for every ledger record on replay); other
domains use it to keep what must outlive the person, e.g. a suppression entry."""


@dataclass(frozen=True)
class SubjectColumns:
    """The columns of the subjects table other domains may join on and filter by.

    Ids, states, sources and blind indexes only: a personal field reaches
    another domain only through `contacts_query` (as ciphertext) and
    `SubjectsService.disclose_contacts`, or addressed by `SubjectsService.send_mail`.
    """

    id: ColumnElement[str]
    state: ColumnElement[str]
    source: ColumnElement[str]
    email_index: ColumnElement[bytes | None]


ACTIVE: str = STATE_ACTIVE
ERASED: str = STATE_ERASED
"""The states of `SubjectColumns.state` and `subject_state`."""
SUBJECT = SubjectColumns(id=_SUBJECTS.c.id, state=_SUBJECTS.c.state,
                         source=_SUBJECTS.c.source, email_index=_SUBJECTS.c.email_index)
_STATE_OF = select(_SUBJECTS.c.state).where(_SUBJECTS.c.id == bindparam("subject_id"))


def subject_state(session: Session, subject_id: str) -> str | None:
    """`ACTIVE` or `ERASED`; None when there is no such subject."""
    found: str | None = session.connection().execute(
        _STATE_OF, {"subject_id": subject_id}).scalar_one_or_none()
    return found


def contacts_query(field: str) -> Select[str, bytes, bytes]:
    """(id, encrypted contact, wrapped data key) of active subjects that have the contact.

    Other domains narrow it (join, where, order, limit) and hand the rows back
    to `SubjectsService.disclose_contacts`; they never see plaintext.
    """
    if field not in CONTACT_FIELDS:
        raise InvalidInput.one("field", "must be email or phone")
    column = _SUBJECTS.c[f"{field}_ct"]
    return (select(_SUBJECTS.c.id, column, _DATA_KEYS.c.wrapped)
            .join(_DATA_KEYS, _DATA_KEYS.c.subject_id == _SUBJECTS.c.id)
            .where(_SUBJECTS.c.state == STATE_ACTIVE, column.is_not(None)))


class Recipient:
    """Someone a mail can be addressed to: a subject id, with the address sealed inside.

    Other domains hold it and hand it back to `SubjectsService.send_mail`; only
    the subjects service reads the address (it is left out of `repr`, so of logs too).
    """

    __slots__ = ("_address", "subject_id")

    def __init__(self, subject_id: str, address: str) -> None:
        self.subject_id = subject_id
        self._address = address

    def __repr__(self) -> str:
        return f"Recipient(subject_id={self.subject_id!r})"


@dataclass(frozen=True)
class Placed:
    """Where a row of a bulk create went: a new subject, or the one with its email."""

    subject_id: str
    created: bool


@dataclass(frozen=True)
class PreparedSubject:
    """A new subject's rows, checked and sealed, waiting to be inserted."""

    email_index: bytes | None
    subject_row: dict[str, Any]
    key_row: dict[str, Any]

    @property
    def subject_id(self) -> str:
        return str(self.subject_row["id"])


@dataclass(frozen=True)
class _Contact:
    email: str | None
    phone: str | None
    email_index: bytes | None
    phone_index: bytes | None


def _context(subject_id: str, field: str) -> FieldContext:
    return FieldContext(table=TABLE, field=field, record_id=subject_id, subject_id=subject_id)


class SubjectsService:
    def __init__(self, keyring: Keyring, audit: AuditLog, ledger: ErasureLedger, *,
                 phone_region: str | None = None,
                 erasure_hooks: Sequence[ErasureHook] = ()) -> None:
        self._keyring = keyring
        self._audit = audit
        self._ledger = ledger
        self._phone_region = phone_region
        self._erasure_hooks = tuple(erasure_hooks)

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
        plain = json.dumps(value, separators=(",", ":")) if field == "attributes" else str(value)
        return cipher.encrypt(plain, context=_context(subject_id, field))

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
        query = _LOAD_FOR_UPDATE if lock else _LOAD
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
        cipher = FieldCipher(data_key)
        subject_row = {
            "id": subject_id, "state": STATE_ACTIVE, "source": data.source,
            "obtained_at": data.obtained_at or now, "created_at": now, "updated_at": now,
            "erased_at": None, "email_index": contact.email_index,
            "phone_index": contact.phone_index,
            "email_ct": self._seal(subject_id, cipher, "email", contact.email),
            "name_ct": self._seal(subject_id, cipher, "name", data.name),
            "phone_ct": self._seal(subject_id, cipher, "phone", contact.phone),
            "attributes_ct": self._seal(subject_id, cipher, "attributes", data.attributes),
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

    # -- operations --------------------------------------------------------------

    def disclose_contacts(self, db: Database, rows: Sequence[Row[str, bytes, bytes]], *,
                          field: str, actor: str, purpose: str, now: datetime
                          ) -> list[tuple[str, str]]:
        """(id, decrypted email or phone) for rows of `contacts_query(field)`, in order.

        For audiences: the rows come from another domain's query, which sees
        ciphertext only. One audit entry names every subject, the field and the
        purpose, and commits before anything is returned, so no address leaves
        without its record.
        """
        if not rows:
            return []
        found = self._keyring.open_fields(
            [(sid, wrapped, blob) for sid, blob, wrapped in rows], table=TABLE, field=field)
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, "subject.contacts.read", purpose, {
                "field": field, "subjects": [sid for sid, _ in found]}), now=now)
        return found

    def email_index(self, email: str, *, field: str = "email") -> bytes:
        """The blind index of an address, for lookups by other domains (suppression)."""
        return blind_index(self._keyring, "email", normalise_email(email, field=field))

    def id_for_email(self, session: Session, email: str, *, actor: str,
                     now: datetime) -> str:
        """The id of the subject with this address, found by its blind index; nothing
        is decrypted. The lookup is audited."""
        found = self._by_email_index(session, self.email_index(email))
        if found is None:
            raise UnknownEmail("no contact has this email address")
        self._audit.record(session, AuditEvent(actor, "subject.lookup", found.id), now=now)
        return found.id

    def create(self, session: Session, data: SubjectInput, *, actor: str,
               now: datetime) -> CreateOutcome:
        """Create a subject, or return the existing one with the same email."""
        if not data.email and not data.phone:
            raise InvalidInput.one("email", "an email address or a phone number is required")
        contact = self._contact(data.email, data.phone)
        if contact.email_index is not None:
            existing = self._by_email_index(session, contact.email_index)
            if existing is not None:
                return CreateOutcome(subject=self.get(session, existing.id, actor=actor, now=now),
                                     created=False)
        subject_row, key_row = self._new_rows(data, contact, now)
        try:
            with session.begin_nested():
                session.connection().execute(insert(_SUBJECTS), [subject_row])
                session.connection().execute(insert(_DATA_KEYS), [key_row])
        except IntegrityError:
            # Another transaction created the same email between our look-up and insert.
            existing = (self._by_email_index(session, contact.email_index)
                        if contact.email_index else None)
            if existing is None:
                raise
            return CreateOutcome(subject=self.get(session, existing.id, actor=actor, now=now),
                                 created=False)
        self._audit.record(session, AuditEvent(actor, "subject.create", subject_row["id"]),
                           now=now)
        return CreateOutcome(subject=self.get(session, subject_row["id"], actor=actor, now=now,
                                              audited=False), created=True)

    def create_recipient(self, session: Session, data: SubjectInput, *, actor: str,
                         now: datetime) -> Recipient:
        """`create`, for someone to write to: the subject's id, its address sealed inside."""
        subject = self.create(session, data, actor=actor, now=now).subject
        if subject.email is None:
            raise InvalidInput.one("email", "an email address is required")
        return Recipient(subject.id, subject.email)

    def recipient(self, session: Session, subject_id: str, *, actor: str,
                  now: datetime) -> Recipient:
        """Someone known to write to (e.g. to ask for consent again); the read is audited.
        Raises `SubjectNotFound`, `SubjectErased`, or `InvalidInput` without an address."""
        subject = self.get(session, subject_id, actor=actor, now=now)
        if subject.email is None:
            raise InvalidInput.one("email", "this contact has no email address")
        return Recipient(subject.id, subject.email)

    def send_mail(self, sender: MailSender, recipient: Recipient, letter: Letter, *,
                  session: Session | None = None) -> None:
        """Address the letter to the recipient and hand it to the sender (queued in
        `session`'s transaction when given)."""
        sender.send(letter.addressed_to(recipient._address), session=session)

    def create_many(self, session: Session, rows: Sequence[SubjectInput], *, actor: str,
                    now: datetime) -> BulkOutcome:
        """Create subjects in one transaction; rows whose email is known are skipped."""
        placed = self.place_many(session, rows, actor=actor, now=now)
        created = sum(1 for p in placed if p.created)
        return BulkOutcome(created=created, duplicates=len(rows) - created)

    def place_many(self, session: Session, rows: Sequence[SubjectInput], *, actor: str,
                   now: datetime) -> list[Placed]:
        """Create subjects in one transaction; per row, the subject it created or, for
        an email already known (in the database or earlier in `rows`), the one it is."""
        prepared = []
        for number, data in enumerate(rows):
            try:
                prepared.append(self.prepare(data, now=now))
            except InvalidInput as exc:
                raise InvalidInput.one(f"rows[{number}].{exc.problems[0].field}",
                                       exc.problems[0].reason) from exc
        return self.place_prepared(session, prepared, actor=actor, now=now)

    def prepare(self, data: SubjectInput, *, now: datetime) -> PreparedSubject:
        """Check a new subject's email and phone as `create` does and seal its fields,
        without the database: bulk paths do this before their write transaction, so
        the encryption does not hold the writer lock."""
        if not data.email and not data.phone:
            raise InvalidInput.one("email", "an email address or a phone number is required")
        contact = self._contact(data.email, data.phone)
        subject_row, key_row = self._new_rows(data, contact, now)
        return PreparedSubject(contact.email_index, subject_row, key_row)

    def place_prepared(self, session: Session, prepared: Sequence[PreparedSubject], *,
                       actor: str, now: datetime) -> list[Placed]:
        """Insert prepared subjects in one transaction, except those whose email is
        known (in the database or earlier in `prepared`): those are placed with it."""
        known: dict[bytes, str] = {}
        indexes = sorted({p.email_index for p in prepared if p.email_index is not None})
        for start in range(0, len(indexes), _LOOKUP_CHUNK):
            chunk = indexes[start:start + _LOOKUP_CHUNK]
            known.update((i, sid) for i, sid in session.execute(
                select(Subject.email_index, Subject.id).where(Subject.email_index.in_(chunk))
            ) if i is not None)
        subject_rows, key_rows, placed = [], [], []
        for item in prepared:
            if item.email_index is not None and item.email_index in known:
                placed.append(Placed(known[item.email_index], created=False))
                continue
            subject_rows.append(item.subject_row)
            key_rows.append(item.key_row)
            placed.append(Placed(item.subject_id, created=True))
            if item.email_index is not None:
                known[item.email_index] = item.subject_id
        if subject_rows:
            session.connection().execute(insert(_SUBJECTS), subject_rows)
            session.connection().execute(insert(_DATA_KEYS), key_rows)
            # one entry for the batch, naming every subject it created
            ids = [row["id"] for row in subject_rows]
            self._audit.record(session, AuditEvent(
                actor, "subject.create_many", f"batch:{ids[0]}",
                {"count": len(ids), "subjects": ids}), now=now)
        return placed

    def get(self, session: Session, subject_id: str, *, actor: str, now: datetime,
            audited: bool = True) -> SubjectView:
        """Decrypt one subject; the read is audited."""
        subject, cipher = self._load(session, subject_id)
        view = self._view(subject, cipher)
        if audited:
            self._audit.record(session, AuditEvent(actor, "subject.read", subject_id), now=now)
        return view

    def find(self, session: Session, *, email: str | None = None, phone: str | None = None,
             actor: str, now: datetime) -> list[SubjectView]:
        """Exact search by email or phone through the blind indexes."""
        if bool(email) == bool(phone):
            raise InvalidInput.one("email", "give exactly one of email or phone")
        contact = self._contact(email, phone)
        query = select(Subject.id).where(Subject.state == STATE_ACTIVE)
        if contact.email_index is not None:
            query = query.where(Subject.email_index == contact.email_index)
        else:
            query = query.where(Subject.phone_index == contact.phone_index)
        ids = list(session.execute(query.order_by(Subject.created_at).limit(100)).scalars())
        views = [self.get(session, i, actor=actor, now=now, audited=False) for i in ids]
        self._audit.record_many(session, [AuditEvent(actor, "subject.search", i) for i in ids],
                                now=now)
        return views

    def rectify(self, session: Session, subject_id: str, changes: SubjectChanges, *,
                actor: str, now: datetime) -> SubjectView:
        """Change the given fields (GDPR Art. 16); the others keep their values."""
        subject, cipher = self._load(session, subject_id, lock=True)
        given = changes.model_fields_set
        if not given:
            raise InvalidInput.one("body", "name at least one field to change")
        values: dict[str, Any] = {"updated_at": now}
        if "email" in given or "phone" in given:
            contact = self._contact(changes.email if "email" in given else None,
                                    changes.phone if "phone" in given else None)
            if "email" in given:
                if contact.email_index is not None:
                    other = self._by_email_index(session, contact.email_index)
                    if other is not None and other.id != subject_id:
                        raise DuplicateContact("another subject already has this email address")
                elif subject.phone_ct is None and "phone" not in given:
                    raise InvalidInput.one("email", "a subject needs an email or a phone number")
                values["email_index"] = contact.email_index
                values["email_ct"] = self._seal(subject_id, cipher, "email", contact.email)
            if "phone" in given:
                values["phone_index"] = contact.phone_index
                values["phone_ct"] = self._seal(subject_id, cipher, "phone", contact.phone)
        for field in ("name", "attributes"):
            if field in given:
                values[f"{field}_ct"] = self._seal(subject_id, cipher, field,
                                                   getattr(changes, field))
        try:
            with session.begin_nested():
                session.execute(update(Subject).where(Subject.id == subject_id).values(**values))
        except IntegrityError as exc:
            raise DuplicateContact("another subject already has this email address") from exc
        self._audit.record(session, AuditEvent(actor, "subject.rectify", subject_id,
                                               {"fields": sorted(given)}), now=now)
        return self.get(session, subject_id, actor=actor, now=now, audited=False)

    def erase(self, db: Database, subject_id: str, *, actor: str, now: datetime,
              reason: str = "request", within: Callable[[Session], None] | None = None
              ) -> None:
        """Crypto-shred a subject: ledger first, then delete its data key and fields.

        Idempotent for subjects already erased. `within` runs in the erasure's own
        transaction (a job acknowledges itself there, so the two commit together).
        Afterwards the deleted key row is purged from disk: SQLite's secure_delete
        zeroes it and a WAL checkpoint drops older page copies; PostgreSQL vacuums
        the key table.
        """
        with db.write() as session:
            subject = session.execute(
                select(Subject).where(Subject.id == subject_id).with_for_update()
            ).scalar_one_or_none()
            if subject is None:
                raise SubjectNotFound(f"no subject with id {subject_id}")
            if subject.state == STATE_ERASED:
                return
            record = ErasureRecord(subject_id, subject.email_index, subject.phone_index, now)
            self._ledger.append(record)
            for hook in self._erasure_hooks:
                hook(session, record)
            session.execute(delete(DataKey).where(DataKey.subject_id == subject_id))
            session.execute(delete(SubjectNote).where(SubjectNote.subject_id == subject_id))
            session.execute(update(Subject).where(Subject.id == subject_id).values(
                erased_at=now, updated_at=now, **_ERASED))
            self._audit.record(session, AuditEvent(actor, "subject.erase", subject_id,
                                                   {"reason": reason}), now=now)
            if within is not None:
                within(session)
        db.purge_deleted_rows("data_keys")

    def replay_erasures(self, session: Session, records: Iterable[ErasureRecord], *,
                        now: datetime) -> int:
        """Erase again, after a restore, everyone the ledger says was erased.

        Returns how many were still present (0 means every erasure holds). Data
        keys are deleted for every listed id, also half-erased ones.
        """
        replayed: list[ErasureRecord] = []
        pending = list(records)
        for start in range(0, len(pending), _LOOKUP_CHUNK):
            chunk = {r.subject_id: r for r in pending[start:start + _LOOKUP_CHUNK]}
            present = set(session.execute(select(Subject.id).where(
                Subject.id.in_(chunk), Subject.state != STATE_ERASED)).scalars())
            keyed = set(session.execute(select(DataKey.subject_id).where(
                DataKey.subject_id.in_(chunk))).scalars())
            session.execute(delete(DataKey).where(DataKey.subject_id.in_(keyed)))
            session.execute(delete(SubjectNote).where(SubjectNote.subject_id.in_(chunk)))
            for subject_id in sorted(present | keyed):
                record = chunk[subject_id]
                session.execute(update(Subject).where(Subject.id == subject_id).values(
                    erased_at=record.erased_at, updated_at=now, **_ERASED))
                replayed.append(record)
        for record in pending:  # suppressions made after the backup hold again too
            for hook in self._erasure_hooks:
                hook(session, record)
        self._audit.record_many(session, [AuditEvent("restore", "subject.erase.replay",
                                                     r.subject_id) for r in replayed], now=now)
        return len(replayed)

    # -- the console: masked views, notes ------------------------------------------

    def open_page(self, db: Database, rows: Sequence[Row[Any]], *, actor: str, action: str,
                  now: datetime) -> list[MaskedContact]:
        """Masked email, phone and name of one page of `listing.contacts_page` rows.

        The data keys are unwrapped in one batch. Masked values are still a
        decryption, so one audit entry per page names a batch reference and
        every subject on it; it commits before the page is returned.
        """
        if not rows:
            return []
        keys = self._keyring.provider.unwrap_data_keys([(r.id, r.wrapped) for r in rows])
        found = []
        for row, key in zip(rows, keys, strict=True):
            cipher = FieldCipher(key)
            found.append(MaskedContact(
                id=row.id, source=row.source, created_at=row.created_at,
                email=mask_email(self._open(row, cipher, "email")),
                phone=mask_phone(self._open(row, cipher, "phone")),
                name=mask_name(self._open(row, cipher, "name"))))
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, action, f"batch:{new_id()}", {
                "count": len(found), "subjects": [c.id for c in found]}), now=now)
        return found

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

    def masked(self, session: Session, subject_id: str, *, actor: str,
               now: datetime) -> MaskedSubject:
        """One subject with every value masked; the decryption is audited."""
        subject, cipher = self._load(session, subject_id)
        view = self._view(subject, cipher)
        self._audit.record(session, AuditEvent(actor, "subject.view.masked", subject_id),
                           now=now)
        return MaskedSubject(
            id=view.id, source=view.source, created_at=view.created_at,
            obtained_at=view.obtained_at, updated_at=view.updated_at,
            email=mask_email(view.email), phone=mask_phone(view.phone),
            name=mask_name(view.name),
            attributes={k: mask_value(v) for k, v in view.attributes.items()})

    def add_note(self, session: Session, subject_id: str, note: NoteInput, *, actor: str,
                 now: datetime) -> str:
        """A staff note, sealed under the subject's data key (erasure shreds it)."""
        _, cipher = self._load(session, subject_id)
        note_id = new_id()
        body = cipher.encrypt(note.body, context=FieldContext(
            table="subject_notes", field="body", record_id=note_id, subject_id=subject_id))
        session.add(SubjectNote(id=note_id, subject_id=subject_id, author=actor,
                                created_at=now, body_ct=body))
        self._audit.record(session, AuditEvent(actor, "subject.note.add", subject_id,
                                               {"note": note_id}), now=now)
        return note_id

    def notes(self, session: Session, subject_id: str) -> list[NoteView]:
        """A subject's notes, newest first. Callers audit the read with their page."""
        _, cipher = self._load(session, subject_id)
        rows = session.execute(select(SubjectNote).where(SubjectNote.subject_id == subject_id)
                               .order_by(SubjectNote.created_at.desc(), SubjectNote.id.desc())
                               ).scalars().all()
        return [NoteView(id=n.id, author=n.author, created_at=n.created_at,
                         body=cipher.decrypt(n.body_ct, context=FieldContext(
                             table="subject_notes", field="body", record_id=n.id,
                             subject_id=subject_id)))
                for n in rows if n.body_ct is not None]

    def count_by_state(self, session: Session) -> dict[str, int]:
        """How many subjects are active and erased (no personal data)."""
        rows = session.execute(select(Subject.state, func.count()).group_by(Subject.state)).all()
        return {str(state): int(n) for state, n in rows}
