"""The rights service: a person's own access to their data (`/my-data`), and the staff
queue of data requests that arrive by other channels (GDPR Art. 12-21).

Self-service: the person gives an address; whether it is known or not, the
answer is the same, and only a known address gets a mail, with a signed link
that expires (`rights.links`). Behind the link the person sees the access report,
downloads it, corrects what they may change themselves, and erases. Each of these
is a request in the queue too (channel self-service, identity checked by the
link), closed at once. Staff record requests from letters, calls and mails,
extend them with a reason, and fulfil them with the same report or erasure.

Plaintext is only ever read through `SubjectsService`; this service holds
subject ids, the person's mail as a `Recipient`, and the report it hands back.
Staff operations check the role here, not only on the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.roles import Permission, Role, require
from ehrlich.consent.signup.gate import SignupGate
from ehrlich.crypto import Keyring
from ehrlich.errors import InvalidInput
from ehrlich.jobs import JobQueue
from ehrlich.mail.interfaces import MailSender
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticesService
from ehrlich.rights import queue
from ehrlich.rights.erasure import erase_person, plan
from ehrlich.rights.gate import LinkMailLimit
from ehrlich.rights.letters import link_letter, reminder_mail
from ehrlich.rights.links import LinkClaims, my_data_token, read_my_data_token
from ehrlich.rights.models import DataRequest
from ehrlich.rights.report import build_report
from ehrlich.rights.schemas import (
    AccessReport,
    ErasureOutcome,
    Hold,
    Kind,
    NewRequest,
    ReportSectionSource,
    RequestView,
)
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.schemas import NoteInput, SubjectChanges, has_control_characters
from ehrlich.subjects.service import ACTIVE, SUBJECT, Recipient, SubjectsService

SELF = "subject:my-data"
LANGUAGES = ("en", "de")
MAX_NAME = 500
MAX_CORRECTION = 2000
REMIND_DAYS = 7
SEND_LINK_TASK = "rights.send_link"
LinkStatus = Literal["sent", "invalid", "captcha", "limited"]


@dataclass(frozen=True)
class LinkOutcome:
    status: LinkStatus
    errors: list[tuple[str, str]] = field(default_factory=list)
    challenge: dict[str, Any] | None = None


@dataclass(frozen=True)
class CorrectionOutcome:
    changed: list[str]
    """Fields changed at once."""
    request_id: str | None
    """The rectification request staff will handle, if the person asked for more."""


@dataclass(frozen=True)
class Fulfilment:
    request: RequestView
    report: AccessReport | None = None
    erasure: ErasureOutcome | None = None
    mailed: bool = False


def _check_text(field_name: str, value: str, maximum: int) -> str:
    text = value.strip()
    if len(text) > maximum:
        raise InvalidInput.one(field_name, f"write at most {maximum} characters")
    if has_control_characters(text.replace("\n", " ").replace("\r", "")):
        raise InvalidInput.one(field_name, "must not contain control characters")
    return text


class RightsService:
    def __init__(self, settings: Settings, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, notices: NoticesService, *,
                 gate: SignupGate | None, limit: LinkMailLimit | None,
                 sections: Callable[[], Sequence[ReportSectionSource]] = tuple,
                 owners: Callable[[Session], list[str]] | None = None,
                 jobs: JobQueue | None = None) -> None:
        self._settings = settings
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._notices = notices
        self.gate = gate
        self._limit = limit
        self._sections = sections
        self._owners = owners
        self._jobs = jobs

    @property
    def mail_on(self) -> bool:
        """Whether link mails can go out at all (SMTP is set up)."""
        return SmtpConfig.from_settings(self._settings) is not None

    def controller_contact(self, db: Database) -> str:
        """Where people write instead, from the published notice ("" before one is)."""
        with db.read() as session:
            try:
                return self._notices.current(session).notice.controller.contact
            except NoticeNotPublished:
                return ""

    # -- the link ------------------------------------------------------------------

    def link_url(self, subject_id: str, *, now: datetime) -> str:
        token = my_data_token(self._keyring, subject_id=subject_id, now=now)
        return f"{self._settings.base_url.rstrip('/')}/my-data/{token}"

    def ask_for_link(self, db: Database, mail: MailSender, email: str, *, language: str,
                     client: str, captcha: str | None, no_script: bool,
                     now: datetime) -> LinkOutcome:
        """Mail the link to a known address; the outcome is the same for an unknown one."""
        text = email.strip()
        if not text or len(text) > 320 or "@" not in text or has_control_characters(text):
            return LinkOutcome("invalid", [("email", "enter your email address")])
        try:
            index = self._subjects.email_index(text)
        except InvalidInput as exc:
            return LinkOutcome("invalid", [(p.field, p.reason) for p in exc.problems])
        if self.gate is not None:
            decision = self.gate.admit(client, captcha=captcha, no_script=no_script, now=now)
            if decision.verdict != "ok":
                return LinkOutcome(decision.verdict, challenge=decision.challenge)
        if self._limit is not None and not self._limit.allow(index, now=now):
            return LinkOutcome("sent")  # the same answer: it would tell the address is known
        # Known or not, the page does the same work: the look-up and the mail happen in
        # a job, which carries the blind index only.
        if self._jobs is not None:
            self._jobs.enqueue(SEND_LINK_TASK, index.hex(), language, int(now.timestamp()))
        return LinkOutcome("sent")

    def send_link(self, db: Database, mail: MailSender, email_index: bytes, *,
                  language: str, now: datetime) -> bool:
        """The link mail to the active person with this address's blind index (the job
        behind `ask_for_link`); False when there is none."""
        with db.write() as session:
            found = session.execute(select(SUBJECT.id).where(
                SUBJECT.email_index == email_index, SUBJECT.state == ACTIVE)).scalar()
            if found is None:
                return False
            recipient = self._subjects.recipient(session, found, actor=SELF, now=now)
        self._send_link(mail, recipient, language=language, now=now, db=db)
        return True

    def _controller(self, db: Database) -> str:
        with db.read() as session:
            try:
                return self._notices.current(session).notice.controller.name
            except NoticeNotPublished:
                return "ehrlich"

    def _send_link(self, mail: MailSender, recipient: Recipient, *, language: str,
                   now: datetime, db: Database) -> None:
        url = self.link_url(recipient.subject_id, now=now)
        self._subjects.send_mail(mail, recipient, link_letter(
            url, language=language, controller=self._controller(db)))

    def read_link(self, token: str, *, now: datetime) -> LinkClaims:
        """Raises `TokenInvalid` / `TokenExpired`."""
        return read_my_data_token(self._keyring, token, now=now)

    # -- behind the link -------------------------------------------------------------

    def report(self, db: Database, subject_id: str, *, actor: str, language: str,
               now: datetime) -> AccessReport:
        """Everything held about the person; the read is audited."""
        with db.write() as session:
            made = build_report(session, self._subjects, self._notices, self._sections(),
                                subject_id, actor=actor, language=language, now=now)
            self._audit.record(session, AuditEvent(actor, "rights.report", subject_id, {
                "consent_events": len(made.consents)}), now=now)
        return made

    def self_service(self, db: Database, claims: LinkClaims, kind: Kind, *,
                     language: str, now: datetime) -> AccessReport:
        """The report for the person behind a link; its view (access) or download
        (portability) is a self-service request in the queue, once per link."""
        made = self.report(db, claims.subject_id, actor=SELF, language=language, now=now)
        with db.write() as session:
            self._record_once(session, claims, kind, now=now,
                              result="report shown" if kind == "access" else "report downloaded")
        return made

    def _record_once(self, session: Session, claims: LinkClaims, kind: Kind, *,
                     now: datetime, result: str) -> None:
        exists = session.execute(select(DataRequest.id).where(
            DataRequest.subject_id == claims.subject_id, DataRequest.kind == kind,
            DataRequest.channel == "self-service",
            DataRequest.received_at == claims.issued_at)).first()
        if exists is None:
            queue.record(session, self._audit, NewRequest(
                kind=kind, channel="self-service", identity_check="email-link",
                received_at=claims.issued_at, subject_id=claims.subject_id),
                actor=SELF, now=now, status="done", result=result)

    def correct(self, db: Database, claims: LinkClaims, *, name: str, language: str,
                other: str, now: datetime) -> CorrectionOutcome:
        """Name and language change at once (audited as rectification); anything else
        the person writes goes to staff as a rectification request, sealed under the
        person's own key."""
        name = _check_text("name", name, MAX_NAME)
        other = _check_text("other", other, MAX_CORRECTION)
        if language and language not in LANGUAGES:
            raise InvalidInput.one("language", f"must be one of {', '.join(LANGUAGES)}")
        subject_id = claims.subject_id
        changed: list[str] = []
        request_id = None
        with db.write() as session:
            person = self._subjects.get(session, subject_id, actor=SELF, now=now,
                                        audited=False)
            changes: dict[str, Any] = {}
            if name != (person.name or ""):
                changes["name"] = name or None
            if language and language != person.attributes.get("language"):
                changes["attributes"] = {**person.attributes, "language": language}
            if changes:
                self._subjects.rectify(session, subject_id, SubjectChanges(**changes),
                                       actor=SELF, now=now)
                changed = sorted("language" if k == "attributes" else k for k in changes)
            if other:
                note = self._subjects.add_note(session, subject_id, NoteInput(
                    body=f"Correction asked for on the self-service page: {other}"[:4000]),
                    actor=SELF, now=now)
                request_id = queue.record(session, self._audit, NewRequest(
                    kind="rectification", channel="self-service",
                    identity_check="email-link", received_at=now, subject_id=subject_id),
                    actor=SELF, now=now, note_id=note).id
            elif changed:
                queue.record(session, self._audit, NewRequest(
                    kind="rectification", channel="self-service", identity_check="email-link",
                    received_at=now, subject_id=subject_id), actor=SELF, now=now,
                    status="done", result="changed by the person: " + ", ".join(changed))
        return CorrectionOutcome(changed, request_id)

    def erasure_plan(self, db: Database, subject_id: str, *, language: str,
                     now: datetime) -> list[Hold]:
        """What an erasure would keep, and why (for the confirmation step)."""
        with db.read() as session:
            return plan(session, self._notices, subject_id, language=language, now=now)

    def erase(self, db: Database, subject_id: str, *, actor: str, language: str,
              channel: Literal["self-service"] | None = None,
              now: datetime) -> ErasureOutcome:
        """Erase through `SubjectsService.erase`, as far as no legal obligation keeps data."""
        outcome = erase_person(db, self._subjects, self._notices, self._audit, subject_id,
                               actor=actor, language=language, now=now)
        if channel is None:
            return outcome
        with db.write() as session:
            request = queue.record(session, self._audit, NewRequest(
                kind="erasure", channel=channel, identity_check="email-link",
                received_at=now, subject_id=subject_id), actor=actor, now=now,
                status="done", result=_erasure_result(outcome))
        return ErasureOutcome(outcome.erased, outcome.holds, outcome.kept_fields, request.id)

    # -- the staff queue -----------------------------------------------------------

    def record(self, db: Database, data: NewRequest, *, role: Role | str, actor: str,
               email: str | None = None, now: datetime) -> RequestView:
        """A request that came by letter, phone, mail…; `email` links it to the person
        (through the blind index; the look-up is audited)."""
        require(role, Permission.REQUESTS_MANAGE)
        queue.check_new(data, now=now)
        with db.write() as session:
            subject_id = data.subject_id
            if email and email.strip():
                subject_id = self._subjects.id_for_email(session, email.strip(), actor=actor,
                                                         now=now)
            elif subject_id is not None:
                subject_id = subject_id.strip()[:64] or None
            return queue.record(session, self._audit, NewRequest(
                data.kind, data.channel, data.identity_check, data.received_at, subject_id),
                actor=actor, now=now)

    def listing(self, db: Database, *, role: Role | str, status: str | None = None,
                kind: str | None = None, offset: int = 0) -> tuple[list[RequestView], int]:
        require(role, Permission.REQUESTS_READ)
        with db.read() as session:
            return queue.listing(session, status=status, kind=kind, offset=offset)

    def get(self, db: Database, request_id: str, *, role: Role | str) -> RequestView:
        require(role, Permission.REQUESTS_READ)
        with db.read() as session:
            return queue.get(session, request_id)

    def extend(self, db: Database, request_id: str, *, months: int, reason: str,
               role: Role | str, actor: str, now: datetime) -> RequestView:
        require(role, Permission.REQUESTS_MANAGE)
        with db.write() as session:
            return queue.extend(session, self._audit, request_id, months=months,
                                reason=reason, actor=actor, now=now)

    def close(self, db: Database, request_id: str, *, status: Literal["done", "refused"],
              result: str, role: Role | str, actor: str, now: datetime) -> RequestView:
        require(role, Permission.REQUESTS_MANAGE)
        with db.write() as session:
            return queue.close(session, self._audit, request_id, status=status,
                               result=result, actor=actor, now=now)

    def fulfil(self, db: Database, mail: MailSender, request_id: str, *, role: Role | str,
               actor: str, language: str, deliver: Literal["mail", "report"] = "mail",
               result: str = "", now: datetime) -> Fulfilment:
        """Fulfil a request the way the self-service page would.

        Access and portability: mail the person their link (`deliver="mail"`: staff see
        nothing), or hand the report to staff (`"report"`, which needs the export
        permission). Erasure: erase now. The other kinds are done by hand; `result`
        says what was done.
        """
        require(role, Permission.REQUESTS_MANAGE)
        with db.read() as session:
            request = queue.get(session, request_id)
        if not request.is_open:
            raise queue.RequestClosed("this request is already closed")
        if request.kind in ("access", "portability", "erasure") and request.subject_id is None:
            raise InvalidInput.one("subject", "link the request to a contact first")
        subject_id = request.subject_id or ""
        if request.kind in ("access", "portability"):
            if deliver == "report":
                require(role, Permission.SUBJECTS_EXPORT)
                made = self.report(db, subject_id, actor=actor, language=language, now=now)
                return Fulfilment(self.close(db, request_id, status="done", role=role,
                                             actor=actor, now=now,
                                             result="report handed over by staff"), made)
            with db.write() as session:
                recipient = self._subjects.recipient(session, subject_id, actor=actor, now=now)
            self._send_link(mail, recipient, language=language, now=now, db=db)
            return Fulfilment(self.close(db, request_id, status="done", role=role, actor=actor,
                                         now=now, result="link to the report mailed"),
                              mailed=True)
        if request.kind == "erasure":
            require(role, Permission.SUBJECTS_ERASE)
            try:
                outcome = self.erase(db, subject_id, actor=actor, language=language, now=now)
            except SubjectErased:
                outcome = ErasureOutcome(erased=True)
            return Fulfilment(self.close(db, request_id, status="done", role=role,
                                         actor=actor, now=now,
                                         result=_erasure_result(outcome)), erasure=outcome)
        return Fulfilment(self.close(db, request_id, status="done", result=result, role=role,
                                     actor=actor, now=now))

    def due_soon(self, session: Session, *, now: datetime, days: int = REMIND_DAYS
                 ) -> list[RequestView]:
        """Open requests due within `days` (or overdue): the dashboard's list."""
        return queue.due_before(session, now + timedelta(days=days))

    def remind(self, db: Database, mail: MailSender, *, now: datetime) -> int:
        """Mail the owners the open requests due within a week that they were not told
        of in the last day; how many requests the mail named."""
        with db.write() as session:
            due = queue.due_before(session, now + timedelta(days=REMIND_DAYS),
                                   unreminded_since=now - timedelta(days=1))
            owners = self._owners(session) if self._owners is not None else []
            if not due or not owners:
                return 0
            queue.mark_reminded(session, [r.id for r in due], now=now)
        for owner in owners:
            mail.send(reminder_mail(owner, due, console_url=self._settings.base_url.rstrip("/"),
                                    now=now))
        return len(due)

    def requests_of(self, db: Database, subject_id: str) -> list[RequestView]:
        with db.read() as session:
            return queue.of_subject(session, subject_id)


def _erasure_result(outcome: ErasureOutcome) -> str:
    if outcome.erased:
        return "erased"
    kept = "; ".join(f"{h.purpose} until {h.until:%Y-%m-%d}" for h in outcome.holds)
    return f"erased except what a legal obligation keeps ({kept})"


__all__ = ["CorrectionOutcome", "Fulfilment", "LinkOutcome", "RightsService",
           "SubjectNotFound"]
