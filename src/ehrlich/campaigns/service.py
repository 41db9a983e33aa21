"""The campaigns service: write, preview, test, and move campaigns through their states.

Every change is a transition of `campaigns.machine`, recorded in the audit
chain in the same transaction. Sending itself is `campaigns.sending`; this
service queues the one job that runs it (`RUN_TASK`), which any worker can
resume from the send table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.campaigns.bounces import FeedbackRecorder, MailboxRun, Recorded, Source, read_reports
from ehrlich.campaigns.bounces import tally as feedback_tally
from ehrlich.campaigns.errors import CampaignNotFound
from ehrlich.campaigns.feedback import Feedback
from ehrlich.campaigns.links import links_for, templates_of
from ehrlich.campaigns.machine import Action, Status, transition
from ehrlich.campaigns.models import Campaign, CampaignSend, CampaignWebhookKey
from ehrlich.campaigns.render import MailContext, Rendered
from ehrlich.campaigns.schemas import (
    SEND_STATES,
    CampaignInput,
    CampaignReport,
    CampaignView,
)
from ehrlich.campaigns.webhook import as_secret, console_key, secret_key
from ehrlich.consent.ledger.audience import count_withdrawals
from ehrlich.consent.statistics import active_by_purpose
from ehrlich.crypto import Keyring
from ehrlich.errors import InvalidInput
from ehrlich.i18n import LANGUAGES
from ehrlich.jobs import JobQueue
from ehrlich.mail.imap import ImapConfig, ImapMailbox
from ehrlich.mail.interfaces import MailSender, OutgoingMail
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticesService
from ehrlich.settings import Settings
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import UnknownEmail
from ehrlich.subjects.service import SUBJECT, SubjectsService, recipients_query

RUN_TASK = "campaigns.run"
_SENDS = cast(Table, CampaignSend.__table__)


def _view(row: Campaign) -> CampaignView:
    return CampaignView(
        id=row.id, name=row.name, status=cast(Status, row.status), purpose=row.purpose,
        channel=row.channel, language=row.language, subject=row.subject,
        text_body=row.text_body, html_body=row.html_body, scheduled_at=row.scheduled_at,
        started_at=row.started_at, finished_at=row.finished_at, created_by=row.created_by,
        created_at=row.created_at, updated_at=row.updated_at, paused_reason=row.paused_reason)


def _load(session: Session, campaign_id: str, *, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    found = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None:
        raise CampaignNotFound(f"no campaign with id {campaign_id}")
    return found


class CampaignsService:
    """Campaigns for the consented audience of one purpose and channel."""

    def __init__(self, settings: Settings, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, jobs: JobQueue, notices: NoticesService) -> None:
        self._settings = settings
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._jobs = jobs
        self._notices = notices
        self.feedback = FeedbackRecorder(audit, subjects, email_purposes=self._email_purposes,
                                         complaint_limit=settings.campaign_complaint_limit)

    @property
    def sender(self) -> str:
        """The sender identity every campaign goes out as (EHRLICH_SMTP_FROM)."""
        return self._settings.smtp_from or ""

    # -- purposes ------------------------------------------------------------------

    def _email_purposes(self, session: Session) -> list[str]:
        """Every purpose of the published notice that reaches people by email."""
        try:
            notice = self._notices.current(session).notice
        except NoticeNotPublished:
            return []
        return [p.id for p in notice.purposes if p.channel == "email"]

    def purposes(self, db: Database, *, language: str = "en") -> list[tuple[str, str]]:
        """(id, title) of the consent purposes by email in the published notice: what a
        campaign may be for (the console's select offers these)."""
        with db.read() as session:
            try:
                notice = self._notices.current(session).notice
            except NoticeNotPublished:
                return []
        return [(p.id, p.title.get(language) or p.title.get("en") or p.id)
                for p in notice.purposes if p.channel == "email" and p.consent is not None]

    def languages(self, db: Database, *, current: str = "") -> list[str]:
        """The language tags a campaign may be written in: those of the published notice
        (the ones people signed up in; all the product's before one is published), and
        `current` (the campaign's own) if it is another."""
        with db.read() as session:
            try:
                tags = list(self._notices.current(session).notice.languages)
            except NoticeNotPublished:
                tags = list(LANGUAGES)
        if current and current not in tags:
            tags.append(current)
        return tags

    def check_purpose(self, db: Database, purpose: str) -> None:
        """Raises `InvalidInput` naming the field `purpose` unless the published notice
        declares it as a consent purpose by email (form, API and CLI all come here)."""
        offered = [pid for pid, _ in self.purposes(db)]
        if purpose in offered:
            return
        if not offered:
            raise InvalidInput.one("purpose", "the published notice declares no consent "
                                   "purpose by email (or no notice is published yet): "
                                   "publish one with `ehrlich notice publish FILE` first")
        raise InvalidInput.one("purpose", f"{purpose!r} is not a consent purpose by email in "
                               f"the published notice; choose one of: {', '.join(offered)}")

    # -- writing -----------------------------------------------------------------

    def create(self, db: Database, data: CampaignInput, *, actor: str,
               now: datetime) -> CampaignView:
        self.check_purpose(db, data.purpose)
        templates_of(cast(Any, data)).check()
        row = Campaign(id=new_id(), status="draft", created_by=actor, created_at=now,
                       updated_at=now, **data.model_dump())
        with db.write() as session:
            session.add(row)
            self._audit.record(session, AuditEvent(actor, "campaign.create", row.id, {
                "purpose": data.purpose, "channel": data.channel}), now=now)
        return _view(row)

    def update(self, db: Database, campaign_id: str, data: CampaignInput, *, actor: str,
               now: datetime) -> CampaignView:
        self.check_purpose(db, data.purpose)
        templates_of(cast(Any, data)).check()
        with db.write() as session:
            row = _load(session, campaign_id, lock=True)
            transition(cast(Status, row.status), "edit")
            for key, value in data.model_dump().items():
                setattr(row, key, value)
            row.updated_at = now
            self._audit.record(session, AuditEvent(actor, "campaign.update", row.id), now=now)
        return _view(row)

    def get(self, db: Database, campaign_id: str) -> CampaignView:
        with db.read() as session:
            return _view(_load(session, campaign_id))

    def recent(self, db: Database, *, limit: int = 100) -> list[CampaignView]:
        with db.read() as session:
            rows = session.execute(select(Campaign).order_by(Campaign.created_at.desc())
                                   .limit(limit)).scalars()
            return [_view(r) for r in rows]

    # -- moving through the states -------------------------------------------------

    def act(self, db: Database, campaign_id: str, action: Action, *, actor: str,
            now: datetime, at: datetime | None = None) -> CampaignView:
        """Schedule (`at`), send now, pause, resume or cancel; raises `CampaignStateError`."""
        if action == "schedule" and (at is None or at <= now):
            raise InvalidInput.one("scheduled_at", "must be a time in the future")
        with db.write() as session:
            row = _load(session, campaign_id, lock=True)
            row.status = transition(cast(Status, row.status), action)
            row.updated_at = now
            if action in ("pause", "resume", "cancel"):
                row.paused_reason = None  # staff took over from the automatic pause
            if action == "schedule":
                row.scheduled_at = at
            if row.status == "sending" and row.started_at is None:
                row.started_at = now
            if row.status == "cancelled":
                row.finished_at = now
            self._audit.record(session, AuditEvent(actor, f"campaign.{action}", row.id),
                               now=now)
        if row.status == "sending":
            self._jobs.enqueue(RUN_TASK, campaign_id)
        return _view(row)

    def due(self, db: Database, *, now: datetime) -> list[str]:
        """Scheduled campaigns whose time has come, and sending ones nobody is running."""
        with db.read() as session:
            return list(session.execute(select(Campaign.id).where(
                ((Campaign.status == "scheduled") & (Campaign.scheduled_at <= now))
                | ((Campaign.status == "sending")
                   & ((Campaign.lease_until.is_(None)) | (Campaign.lease_until < now)))
            )).scalars())

    def start_due(self, db: Database, *, now: datetime) -> int:
        """Start what is due (the periodic job): scheduled ones begin, stalled ones resume."""
        started = 0
        for campaign_id in self.due(db, now=now):
            with db.write() as session:
                row = _load(session, campaign_id, lock=True)
                if row.status == "scheduled":
                    row.status = transition("scheduled", "start")
                    row.started_at = row.started_at or now
                    self._audit.record(session, AuditEvent("system", "campaign.start",
                                                           row.id), now=now)
            self._jobs.enqueue(RUN_TASK, campaign_id)
            started += 1
        return started

    # -- looking at it -------------------------------------------------------------

    def preview(self, db: Database, campaign_id: str, *, subject_id: str | None, actor: str,
                now: datetime) -> Rendered:
        """The mail as one person would get it (their name and links), or as a sample.
        `subject_id` may also be the person's email address (found by its blind index)."""
        campaign = self.get(db, campaign_id)
        templates = templates_of(campaign)
        if not subject_id:
            return templates.render(_sample(self._settings))
        if "@" in subject_id:
            subject_id = self._id_for_email(db, subject_id, actor=actor, now=now)
        with db.read() as session:
            rows = session.connection().execute(
                recipients_query().where(SUBJECT.id == subject_id)).all()
        if not rows:
            raise InvalidInput.one("subject_id", "no active contact with an email address "
                                   "has this id")
        [person] = self._subjects.recipients(db, rows, actor=actor,
                                             purpose=f"campaign.preview:{campaign_id}",
                                             now=now)
        unsubscribe, preferences, _ = links_for(
            self._settings, self._keyring, subject_id=subject_id, purpose=campaign.purpose,
            channel=campaign.channel, now=now)
        return templates.render(MailContext(name=person.name or "",
                                            unsubscribe_url=unsubscribe,
                                            preferences_url=preferences))

    def _id_for_email(self, db: Database, email: str, *, actor: str, now: datetime) -> str:
        try:
            with db.write() as session:
                return self._subjects.id_for_email(session, email, actor=actor, now=now)
        except UnknownEmail:
            raise InvalidInput.one("subject_id", "no contact has this email address") from None
        except InvalidInput as exc:  # the address itself is malformed
            raise InvalidInput.one("subject_id", exc.problems[0].reason) from None

    def test_send(self, db: Database, campaign_id: str, *, to: str, mail: MailSender,
                  actor: str, now: datetime) -> None:
        """The sample rendering to a staff address, marked as a test; its links go nowhere."""
        campaign = self.get(db, campaign_id)
        rendered = templates_of(campaign).render(_sample(self._settings))
        mail.send(OutgoingMail(to=to, subject=f"[Test] {rendered.subject}",
                               text=rendered.text, html=rendered.html,
                               category="transactional", language=campaign.language))
        with db.write() as session:
            self._audit.record(session, AuditEvent(actor, "campaign.test_send", campaign_id),
                               now=now)

    def reach(self, db: Database, purpose: str, channel: str = "email") -> int:
        """How many people a campaign for `purpose` would go to if it were sent now: the
        active consents kept counted at each change (cheap at any size). The audience
        itself is resolved when sending starts and each mail is checked again."""
        with db.read() as session:
            return sum(c.count for c in active_by_purpose(session)
                       if c.purpose == purpose and c.channel == channel)

    def report(self, db: Database, campaign_id: str) -> CampaignReport:
        campaign = self.get(db, campaign_id)
        with db.read() as session:
            counts = dict(session.execute(
                select(CampaignSend.state, func.count()).where(
                    CampaignSend.campaign_id == campaign_id).group_by(CampaignSend.state)
            ).all())
            reported = feedback_tally(session, campaign_id)
        got = {state: int(counts.get(state, 0)) for state in SEND_STATES}
        unsubscribed = 0
        if campaign.started_at is not None:
            unsubscribed = count_withdrawals(
                db, campaign.purpose, campaign.channel, since=campaign.started_at,
                among=select(CampaignSend.subject_id).where(
                    CampaignSend.campaign_id == campaign_id,
                    CampaignSend.state.in_(("handed", "sent"))))
        refused = got["bounced"]
        bounced = refused + reported.hard
        tried = reported.accepted + refused
        return CampaignReport(audience=sum(got.values()), queued=got["queued"],
                              sent=got["sent"] + got["handed"], in_doubt=got["handed"],
                              deferred=got["deferred"] + reported.soft,
                              bounced=bounced, skipped=got["skipped"],
                              unsubscribed=unsubscribed, delivered=reported.delivered,
                              complained=reported.complaints,
                              bounce_rate=bounced / tried if tried else 0.0,
                              complaint_rate=reported.complaint_rate)

    def reports(self, db: Database, *, limit: int = 24) -> list[tuple[CampaignView,
                                                                      CampaignReport]]:
        """The latest campaigns that started sending, oldest first, with their reports."""
        with db.read() as session:
            rows = list(session.execute(select(Campaign).where(
                Campaign.started_at.is_not(None)).order_by(Campaign.started_at.desc())
                .limit(limit)).scalars())
        return [(_view(r), self.report(db, r.id)) for r in reversed(rows)]

    # -- bounces and complaints ----------------------------------------------------------

    def record_feedback(self, db: Database, feedback: Feedback, *, source: Source,
                        now: datetime) -> Recorded:
        """Apply one bounce or complaint report (`campaigns.bounces`)."""
        return self.feedback.record(db, feedback, source=source, now=now)

    def webhook_generation(self, db: Database) -> CampaignWebhookKey | None:
        """The console's current webhook secret (its generation, when and by whom)."""
        with db.read() as session:
            found = session.execute(select(CampaignWebhookKey).order_by(
                CampaignWebhookKey.generation.desc()).limit(1)).scalar_one_or_none()
            if found is not None:
                session.expunge(found)
            return found

    def webhook_keys(self, db: Database) -> list[bytes]:
        """The keys a notification may be signed with: the settings' secret, and the
        console's latest one. None: the webhook refuses everything."""
        keys = []
        if self._settings.campaign_webhook_secret is not None:
            keys.append(secret_key(self._settings.campaign_webhook_secret.get_secret_value()))
        current = self.webhook_generation(db)
        if current is not None:
            keys.append(console_key(self._keyring, current.generation))
        return keys

    def new_webhook_secret(self, db: Database, *, actor: str, now: datetime) -> str:
        """A new console secret for the webhook (the one made before stops working); shown
        to the caller once. Only its generation number is stored."""
        with db.write() as session:
            last = session.execute(select(func.max(CampaignWebhookKey.generation))
                                   ).scalar_one_or_none() or 0
            session.add(CampaignWebhookKey(generation=last + 1, created_at=now,
                                           created_by=actor))
            self._audit.record(session, AuditEvent(actor, "campaign.webhook_secret",
                                                   str(last + 1)), now=now)
        return as_secret(console_key(self._keyring, last + 1))

    def read_bounce_mailbox(self, db: Database, *, now: datetime,
                            config: ImapConfig | None = None) -> MailboxRun:
        """Read the bounce mailbox over IMAP: DSNs and ARF complaints of campaign mail."""
        with ImapMailbox(config or ImapConfig.required(self._settings, "bounce")) as mailbox:
            return read_reports(self.feedback, db, mailbox, now=now)

    def release(self, db: Database, campaign_id: str) -> None:
        """Forget a worker's claim (the worker is known to be gone)."""
        with db.write() as session:
            session.execute(update(Campaign).where(Campaign.id == campaign_id)
                            .values(lease_owner=None, lease_until=None))


def _sample(settings: Settings) -> MailContext:
    base = settings.base_url.rstrip("/")
    return MailContext(name="Ada Lovelace", unsubscribe_url=f"{base}/unsubscribe/example",
                       preferences_url=f"{base}/preferences/example")
