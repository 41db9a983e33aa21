"""The subjects service: the only code that sees plaintext personal data.

Every field is encrypted under the subject's own data key before it reaches
the database; the data key is wrapped by the KEK. Every plaintext read, write
and erasure appends to the audit chain in the same transaction. Mail to a subject
is addressed here too (`send_mail`): other domains hold a `Recipient`, never the
address.

`SubjectsService` is one object built from parts that each read in one sitting:
`subjects.core` (the keys and how fields are sealed), `subjects.bulk` (imports) and
`subjects.contact_views` (the console's masked views and notes). The queries on
ciphertext that other domains narrow live in `subjects.queries`; other domains
import them, like everything of this domain, from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent
from ehrlich.crypto import blind_index
from ehrlich.errors import InvalidInput
from ehrlich.mail.interfaces import Letter, MailSender
from ehrlich.storage.database import Database
from ehrlich.subjects import counts, read_lists
from ehrlich.subjects.bulk import BulkCreation, Placed, PreparedSubject
from ehrlich.subjects.contact_views import ContactViews
from ehrlich.subjects.core import (
    ENCRYPTED_FIELDS,
    LOOKUP_CHUNK,
    TABLE,
    ErasureHook,
    RectificationHook,
    batch_hook,
    run_erasure_hooks,
)
from ehrlich.subjects.errors import DuplicateContact, SubjectNotFound, UnknownEmail
from ehrlich.subjects.ledger import ErasureRecord
from ehrlich.subjects.models import STATE_ACTIVE, STATE_ERASED, DataKey, Subject, SubjectNote
from ehrlich.subjects.normalize import normalise_email
from ehrlich.subjects.queries import (
    ACTIVE,
    DATA_KEYS_TABLE,
    ERASED,
    SUBJECT,
    SUBJECTS_TABLE,
    SubjectColumns,
    contacts_query,
    recipients_query,
    subject_state,
)
from ehrlich.subjects.recipients import Recipient
from ehrlich.subjects.schemas import CreateOutcome, SubjectChanges, SubjectInput, SubjectView

# What other domains import from here (the service is their way into this domain).
__all__ = [
    "ACTIVE",
    "ERASED",
    "SUBJECT",
    "ErasureHook",
    "Placed",
    "PreparedSubject",
    "Recipient",
    "RectificationHook",
    "SubjectColumns",
    "SubjectsService",
    "batch_hook",
    "contacts_query",
    "recipients_query",
    "subject_state",
]

# What an erased subject row keeps of its personal data: nothing.
_ERASED: dict[str, Any] = {"state": STATE_ERASED, "email_index": None, "phone_index": None,
                           **{f"{field}_ct": None for field in ENCRYPTED_FIELDS}}


class SubjectsService(BulkCreation, ContactViews):
    """Subjects and their personal data: create, read, find, rectify, erase, disclose."""

    # -- operations --------------------------------------------------------------

    def disclose_contacts(self, db: Database, rows: Sequence[Row[str, bytes, bytes]], *,
                          field: str, actor: str, purpose: str, now: datetime,
                          batch: str | None = None) -> list[tuple[str, str]]:
        """(id, decrypted email or phone) for rows of `contacts_query(field)`, in order.

        For audiences: the rows come from another domain's query, which sees
        ciphertext only. One audit entry records the field, the purpose and who was
        read, and commits before anything is returned, so no address leaves without
        its record. Who: every subject named in the entry, or, for a file recorded
        under a `batch` reference (an export, a release, a pull of an audience), that
        reference, the count and a list kept beside the chain (`read_lists`) with the
        digest of its ids.
        """
        if not rows:
            return []
        found = self._keyring.open_fields(
            [(sid, wrapped, blob) for sid, blob, wrapped in rows], table=TABLE, field=field)
        ids = [sid for sid, _ in found]
        with db.write() as session:
            who: dict[str, Any] = ({"subjects": ids} if batch is None
                                   else read_lists.keep(session, batch, ids, now=now))
            self._audit.record(session, AuditEvent(actor, "subject.contacts.read", purpose, {
                "field": field, **who}), now=now)
        return found

    def read_list(self, session: Session, list_id: str, digest: str) -> list[str]:
        """The subject ids of a batch read that an audit entry names by list and digest
        (`read_lists.members`: `NotFound`, or `IntegrityFailure` for an altered list)."""
        return read_lists.members(session, list_id, digest)

    def recipients(self, db: Database, rows: Sequence[Row[str, bytes, bytes | None, bytes]],
                   *, actor: str, purpose: str, now: datetime) -> list[Recipient]:
        """A `Recipient` (address sealed inside, name for the greeting) for each row of
        `recipients_query()`, in order; one audit entry for the batch, committed first,
        as `disclose_contacts` does."""
        if not rows:
            return []
        emails = self._keyring.open_fields([(r[0], r[3], r[1]) for r in rows],
                                           table=TABLE, field="email")
        named = [(r[0], r[3], r[2]) for r in rows if r[2] is not None]
        names = dict(self._keyring.open_fields(named, table=TABLE, field="name")
                     if named else [])
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, "subject.contacts.read", purpose, {
                "field": "email", "subjects": [sid for sid, _ in emails]}), now=now)
        return [Recipient(sid, address, names.get(sid)) for sid, address in emails]

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
                session.connection().execute(insert(SUBJECTS_TABLE), [subject_row])
                session.connection().execute(insert(DATA_KEYS_TABLE), [key_row])
        except IntegrityError:
            # Another transaction created the same email between our look-up and insert.
            existing = (self._by_email_index(session, contact.email_index)
                        if contact.email_index else None)
            if existing is None:
                raise
            return CreateOutcome(subject=self.get(session, existing.id, actor=actor, now=now),
                                 created=False)
        counts.count(session, {STATE_ACTIVE: 1})
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
        ids = self.search_ids(session, email=email, phone=phone)
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
        for hook in self._rectification_hooks:
            hook(session, subject_id, sorted(given), now)
        return self.get(session, subject_id, actor=actor, now=now, audited=False)

    def erase(self, db: Database, subject_id: str, *, actor: str, now: datetime,
              reason: str = "request", within: Callable[[Session], None] | None = None
              ) -> None:
        """Crypto-shred a subject: ledger first, then delete its data key and fields
        (`erase_many` of one).

        Idempotent for subjects already erased; `SubjectNotFound` for an unknown id.
        `within` runs in the erasure's own transaction (a job acknowledges itself there,
        so the two commit together).
        """
        self.erase_many(db, [subject_id], actor=actor, now=now, reason=reason, within=within)

    def erase_many(self, db: Database, subject_ids: Iterable[str], *, actor: str,
                   now: datetime, reason: str = "request",
                   within: Callable[[Session], None] | None = None,
                   chunk: int = LOOKUP_CHUNK) -> list[str]:
        """Crypto-shred many subjects, `chunk` at a time; returns the ids erased now.

        An unknown id raises `SubjectNotFound` before anything is written; subjects
        already erased are skipped. Per chunk: one ledger transaction appends every
        record (committed and fsynced before the chunk's own transaction commits, so a
        crash between the two leaves ledger entries that the next replay applies, never
        the reverse), the erasure hooks run per record, the keys, notes and fields go in
        set-based statements with one audit batch, and `within` runs in that
        transaction. Afterwards the deleted key rows are purged from disk once:
        SQLite's secure_delete zeroes them and a WAL checkpoint drops older page
        copies; PostgreSQL vacuums the key table.
        """
        ids = list(dict.fromkeys(subject_ids))
        with db.read() as session:
            known: set[str] = set()
            for start in range(0, len(ids), LOOKUP_CHUNK):
                known.update(session.execute(select(Subject.id).where(
                    Subject.id.in_(ids[start:start + LOOKUP_CHUNK]))).scalars())
        unknown = [sid for sid in ids if sid not in known]
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise SubjectNotFound(f"no subject with id {unknown[0]}{more}; nothing was erased")
        erased: list[str] = []
        for start in range(0, len(ids), chunk):
            erased += self._erase_chunk(db, ids[start:start + chunk], actor=actor, now=now,
                                        reason=reason, within=within)
        return erased

    def _erase_chunk(self, db: Database, ids: Sequence[str], *, actor: str, now: datetime,
                     reason: str, within: Callable[[Session], None] | None) -> list[str]:
        with db.write() as session:
            rows = {row.id: row for row in session.execute(
                select(Subject.id, Subject.state, Subject.email_index, Subject.phone_index)
                .where(Subject.id.in_(ids)).order_by(Subject.id).with_for_update())}
            todo = [sid for sid in ids if sid in rows and rows[sid].state != STATE_ERASED]
            if not todo:
                return []
            records = [ErasureRecord(sid, rows[sid].email_index, rows[sid].phone_index, now)
                       for sid in todo]
            self._ledger.append_many(records)
            session.execute(delete(DataKey).where(DataKey.subject_id.in_(todo)))
            session.execute(delete(SubjectNote).where(SubjectNote.subject_id.in_(todo)))
            session.execute(update(Subject).where(Subject.id.in_(todo)).values(
                erased_at=now, updated_at=now, **_ERASED))
            counts.count(session, {STATE_ACTIVE: -len(todo), STATE_ERASED: len(todo)})
            # The hooks see the tombstones, as after a restore's replay: what they record
            # holds no contact detail of the people (the records keep the blind indexes).
            hooked = run_erasure_hooks(self._erasure_hooks, session, records)
            self._audit.record_many(session, [*hooked, *(AuditEvent(
                actor, "subject.erase", sid, {"reason": reason}) for sid in todo)], now=now)
            if within is not None:
                within(session)
        db.purge_deleted_rows("data_keys")
        return todo

    def replay_erasures(self, session: Session, records: Iterable[ErasureRecord], *,
                        now: datetime) -> int:
        """Erase again, after a restore, everyone the ledger says was erased.

        Returns how many were still present (0 means every erasure holds). Data
        keys are deleted for every listed id, also half-erased ones.
        """
        replayed: list[ErasureRecord] = []
        pending = list(records)
        counted = counts.kept(session)
        for start in range(0, len(pending), LOOKUP_CHUNK):
            chunk = {r.subject_id: r for r in pending[start:start + LOOKUP_CHUNK]}
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
            if counted:
                counts.count(session, {STATE_ACTIVE: -len(present), STATE_ERASED: len(present)})
        # suppressions made after the backup hold again too
        hooked = run_erasure_hooks(self._erasure_hooks, session, pending)
        self._audit.record_many(session, [*hooked, *(AuditEvent(
            "restore", "subject.erase.replay", r.subject_id) for r in replayed)], now=now)
        return len(replayed)
