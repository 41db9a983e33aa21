"""The sharing domain's services: exports of audiences to staff, releases to the notice's
recipients (the disclosure log), and the copies register they are recorded in.

Other domains read them by interface: `instance.service(CopiesService)` (the
contacts page records a person's export there) and
`instance.service(SharingService)` (a person's access report lists
`disclosures_of`; an erasure notifies `recipients_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.roles import Permission
from ehrlich.consent.ledger.audience import (
    DEFAULT_BATCH,
    audience_sizes,
    contact_field,
    export_audience,
)
from ehrlich.consent.signup.links import preferences_signer
from ehrlich.consent.unsubscribe.links import unsubscribe_signer
from ehrlich.crypto import Keyring
from ehrlich.errors import InvalidInput
from ehrlich.i18n import translations
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.schemas import Notice, Purpose, Recipient
from ehrlich.notices.service import NoticesService
from ehrlich.rights.schemas import BASIS_LABELS, ReportSection
from ehrlich.settings import Settings
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.sharing.errors import NoBasisForRecipient
from ehrlich.sharing.files import MEDIA_TYPES, Tracked, encode
from ehrlich.sharing.models import Disclosure, DisclosureBatch
from ehrlich.sharing.schemas import (
    FIELD_LABELS,
    KIND_AUDIENCE,
    KIND_DISCLOSURE,
    AudienceCount,
    CopyRequest,
    DisclosureView,
    Format,
)
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.service import SubjectsService

__all__ = ["Caller", "CopiesService", "ExportFile", "SharingService"]
LINK_COLUMNS = ("unsubscribe_url", "preferences_url")


@dataclass(frozen=True)
class ExportFile:
    """A recorded export, ready to stream: iterate `body` once (it completes the copy)."""

    copy_id: str | None
    """None for a release pulled by the recipient itself (no staff member holds it)."""
    expires_at: datetime | None
    filename: str
    media_type: str
    body: Tracked


@dataclass(frozen=True)
class ExportRequest:
    purpose: str
    channel: str
    format: Format
    reason: str
    destination: str
    expires: date | None = None



def disclosures_of(session: Session, subject_id: str) -> list[DisclosureView]:
    """Every release of this person's data to a recipient, oldest first (Art. 15(1)(c)):
    also for the erasure and rectification hooks, which run without the service."""
    rows = session.execute(
        select(DisclosureBatch).join(Disclosure, Disclosure.batch_id == DisclosureBatch.id)
        .where(Disclosure.subject_id == subject_id)
        .order_by(DisclosureBatch.at, DisclosureBatch.id)).scalars()
    return [DisclosureView(b.id, b.recipient, b.purpose, b.basis,
                           tuple(b.fields.split(",")), b.at) for b in rows]

class SharingService:
    """Audience exports and releases to recipients; every file a tracked copy."""

    def __init__(self, settings: Settings, db: Database, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, notices: NoticesService,
                 copies: CopiesService, *, batch_size: int = DEFAULT_BATCH) -> None:
        self._batch_size = batch_size
        self._settings = settings
        self._db = db
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._notices = notices
        self._copies = copies

    # -- audiences -------------------------------------------------------------------

    def notice(self, session: Session) -> Notice | None:
        """The published notice, or None before the first is published."""
        return self._notice(session)

    def _notice(self, session: Session) -> Notice | None:
        try:
            return self._notices.current(session).notice
        except NoticeNotPublished:
            return None

    def audiences(self, session: Session, caller: Caller, *, language: str
                  ) -> list[AudienceCount]:
        """Who may be contacted now, per purpose and channel of the published notice
        (and any other audience that still has people)."""
        caller.require(Permission.AGGREGATES_READ)
        sizes = {(p, c): n for p, c, n in audience_sizes(session)}
        notice = self._notice(session)
        found: list[AudienceCount] = []
        for purpose in notice.purposes if notice else []:
            if purpose.channel in ("email", "sms", "phone"):
                key = (purpose.id, purpose.channel)
                title = purpose.title.get(language) or purpose.title["en"]
                found.append(AudienceCount(purpose.id, purpose.channel, title,
                                           sizes.pop(key, 0)))
        found.extend(AudienceCount(p, c, p, n, declared=False)
                     for (p, c), n in sorted(sizes.items()))
        return found

    def _rows(self, batches: Iterator[list[tuple[str, str]]], purpose: str, channel: str,
              now: datetime, *, links: bool) -> Iterator[list[tuple[str, ...]]]:
        if not links:
            for batch in batches:
                yield list(batch)
            return
        base = self._settings.base_url.rstrip("/")
        unsubscribe = unsubscribe_signer(self._keyring, purpose=purpose, channel=channel,
                                         now=now)
        preferences = preferences_signer(self._keyring, now=now)
        for batch in batches:
            yield [(sid, address, f"{base}/unsubscribe/{unsubscribe(sid)}",
                    f"{base}/preferences/{preferences(sid)}") for sid, address in batch]

    def _tracked(self, copy_id: str | None, columns: tuple[str, ...],
                 rows: Iterator[list[tuple[str, ...]]], fmt: Format, *, now: datetime
                 ) -> Tracked:
        def done(count: int, digest: str) -> None:
            if copy_id is not None:
                self._copies.complete_in(self._db, copy_id, rows=count, digest=digest,
                                         now=now)

        return Tracked(encode(columns, rows, fmt), done)

    def export_audience(self, request: ExportRequest, caller: Caller, *, now: datetime
                        ) -> ExportFile:
        """The audience of a purpose and channel as a file, each person with their own
        one-click unsubscribe and preference links. Recorded as a copy before the first
        byte; each batch is audited under the copy's reference, without the people."""
        caller.require(Permission.AUDIENCES_EXPORT)
        with self._db.write() as session:
            notice = self._notice(session)
            purpose = notice.purpose(request.purpose) if notice else None
            channel = request.channel or (purpose.channel if purpose else "")
            if purpose is None or purpose.channel != channel:
                raise InvalidInput.one("purpose", f"{request.purpose}/{channel} is not a "
                                       "purpose and channel of the published notice")
            columns = ("id", contact_field(channel), *LINK_COLUMNS)
            issued = self._copies.issue(session, CopyRequest(
                KIND_AUDIENCE, f"{purpose.id}/{channel}", columns, request.format,
                request.reason, request.destination, request.expires),
                holder=caller.actor, now=now)
        batches = export_audience(self._db, self._subjects, purpose.id, channel,
                                  actor=caller.actor, now=now, batch=f"copy:{issued.id}",
                                  batch_size=self._batch_size)
        rows = self._rows(batches, purpose.id, channel, now, links=True)
        return ExportFile(issued.id, issued.expires_at,
                          f"audience-{purpose.id}-{channel}-{now:%Y%m%d}.{request.format}",
                          MEDIA_TYPES[request.format],
                          self._tracked(issued.id, columns, rows, request.format, now=now))

    # -- releases to recipients (disclosures) ----------------------------------------

    def basis(self, session: Session, recipient: str, purpose_id: str
              ) -> tuple[Purpose, list[int]]:
        """The purpose as published now, and every published version that named the
        recipient for it: a consent given under one of those covers the recipient."""
        notice = self._notice(session)
        purpose = notice.purpose(purpose_id) if notice else None
        if notice is None or purpose is None:
            raise NoBasisForRecipient.one("purpose", f"{purpose_id!r} is not a purpose of the "
                                          "published notice: nobody was released")
        if notice.recipient(recipient) is None or recipient not in purpose.recipients:
            raise NoBasisForRecipient.one("recipient", f"the published notice does not name "
                                          f"{recipient!r} as a recipient for {purpose_id!r}: "
                                          "nobody was released")
        versions = []
        for info in self._notices.versions(session):
            then = self._notices.version(session, info.number).notice.purpose(purpose_id)
            if (then is not None and recipient in then.recipients
                    and then.legal_basis == purpose.legal_basis):
                versions.append(info.number)
        return purpose, versions

    def release(self, request: ExportRequest, recipient: str, caller: Caller, *,
                now: datetime, track: bool = True) -> ExportFile:
        """The people whose active consent (or other declared basis) for the purpose was
        given under a notice that named `recipient` for it, as a file for the recipient.

        The release is a disclosure batch (recipient, purpose, basis, fields, notice
        versions) with one row per person, written before each batch is decrypted; the
        file is a tracked copy too (`track`; not when the recipient pulls it itself over
        the API). A recipient the published notice does not name for the purpose gets
        nobody (`NoBasisForRecipient`)."""
        caller.require(Permission.AUDIENCES_EXPORT)
        with self._db.write() as session:
            purpose, versions = self.basis(session, recipient, request.purpose)
            field = contact_field(purpose.channel)
            links = purpose.legal_basis == "consent"
            columns = ("id", field, *(LINK_COLUMNS if links else ()))
            issued = self._copies.issue(session, CopyRequest(
                KIND_DISCLOSURE, f"{recipient}:{request.purpose}", columns, request.format,
                request.reason, request.destination, request.expires),
                holder=caller.actor, now=now) if track else None
            copy_id = issued.id if issued else None
            batch_id = self.open_disclosure(session, recipient, purpose, versions, columns,
                                            caller, copy_id=copy_id, now=now)

        def log(subject_ids: list[str]) -> None:
            self.log_disclosed(batch_id, subject_ids)

        batches = export_audience(self._db, self._subjects, purpose.id, purpose.channel,
                                  actor=caller.actor, now=now, batch=f"disclosure:{batch_id}",
                                  notice_versions=versions, before_release=log,
                                  batch_size=self._batch_size)
        rows = self._rows(batches, purpose.id, purpose.channel, now, links=links)
        return ExportFile(copy_id, issued.expires_at if issued else None,
                          f"{recipient}-{purpose.id}-{now:%Y%m%d}.{request.format}",
                          MEDIA_TYPES[request.format],
                          self._tracked(copy_id, columns, rows, request.format, now=now))

    def open_disclosure(self, session: Session, recipient: str, purpose: Purpose,
                        versions: list[int], columns: tuple[str, ...], caller: Caller, *,
                        copy_id: str | None, now: datetime) -> str:
        """Record a release batch (recipient, purpose, basis, fields, notice versions) and
        audit it; its people follow with `log_disclosed`, each before they are decrypted.
        Every release to a recipient goes through here: a file, an API pull, a processor
        sync."""
        batch_id = new_id()
        session.add(DisclosureBatch(
            id=batch_id, recipient=recipient, purpose=purpose.id, channel=purpose.channel,
            basis=purpose.legal_basis, fields=",".join(columns),
            notice_versions=",".join(map(str, versions)), actor=caller.actor,
            copy_id=copy_id, at=now, people=0))
        self._audit.record(session, AuditEvent(caller.actor, "disclosure.released", batch_id, {
            "recipient": recipient, "purpose": purpose.id, "basis": purpose.legal_basis,
            "fields": list(columns), "notice_versions": versions, "copy": copy_id}), now=now)
        return batch_id

    def log_disclosed(self, batch_id: str, subject_ids: list[str]) -> None:
        """One row per person released in the batch, committed before their data is read."""
        if not subject_ids:
            return
        with self._db.write() as write:
            write.execute(insert(Disclosure), [
                {"batch_id": batch_id, "subject_id": sid} for sid in subject_ids])
            write.execute(update(DisclosureBatch).where(DisclosureBatch.id == batch_id)
                          .values(people=DisclosureBatch.people + len(subject_ids)))

    def disclosures_of(self, session: Session, subject_id: str) -> list[DisclosureView]:
        """Every release of this person's data to a recipient, oldest first (Art. 15(1)(c))."""
        return disclosures_of(session, subject_id)

    def report_section(self, session: Session, subject_id: str, *, language: str
                       ) -> ReportSection:
        """The person's disclosures for their access report (`rights` finds this service
        by its `ReportSectionSource` shape): recipient, date, purpose, basis, fields."""
        gettext = translations(language).gettext
        notice = self._notice(session)
        rows: list[tuple[str, ...]] = []
        for d in self.disclosures_of(session, subject_id):
            declared = notice.recipient(d.recipient) if notice else None
            purpose = notice.purpose(d.purpose) if notice else None
            rows.append((declared.name if declared else d.recipient,
                         d.at.strftime("%Y-%m-%d %H:%M UTC"),
                         (purpose.title.get(language) or purpose.title["en"]) if purpose
                         else d.purpose,
                         gettext(BASIS_LABELS.get(d.basis, d.basis)),
                         ", ".join(gettext(FIELD_LABELS.get(f, f)) for f in d.fields)))
        return ReportSection(
            "disclosures", gettext("Who received your data"),
            (gettext("Recipient"), gettext("Date"), gettext("Purpose"),
             gettext("Legal basis"), gettext("Data")), rows,
            note=gettext("We have not given your data to anyone."))

    def declared_recipients(self, session: Session) -> list[Recipient]:
        """The recipients the published notice names (none before it is published)."""
        notice = self._notice(session)
        return list(notice.recipients) if notice else []

    def recipients_of(self, session: Session, subject_id: str) -> list[str]:
        """The recipients that received this person's data (whom an erasure must tell,
        Art. 19)."""
        return sorted({d.recipient for d in self.disclosures_of(session, subject_id)})
