"""Bounces and complaints reported after sending: matched, recorded, suppressed, counted.

A report (`campaigns.feedback`: a provider's webhook or a DSN/ARF mail) names the
Message-ID ehrlich gave one campaign mail; that finds the send row, so the
report needs no address to find the person. When it does name an address, that
address must be the recipient's (compared by blind index), or the report is
left unmatched: a report naming someone else changes nothing.

In one transaction, a report that matches:

- is recorded once per send and kind (`campaign_feedback`): a repeated report,
  or the same bounce by webhook and by mail, counts once;
- for a hard bounce or a complaint, suppresses the recipient's address (the
  consent domain's suppression list, by blind index) for the campaign's purpose
  and every other email purpose of the published notice: a dead address is dead
  for all of them, and a complaint stops all marketing mail. The person's own
  confirmed opt-in lifts a suppression again, as it does after a withdrawal;
- is written to the audit chain (ids and the status code; never the address);
- for a complaint, pauses a sending or scheduled campaign whose complaints exceed
  the limit (0.3 % of the mail delivered by default), with the reason kept on the
  campaign for its page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.campaigns.feedback import Feedback, parse_report
from ehrlich.campaigns.machine import Status, transition
from ehrlich.campaigns.models import Campaign, CampaignFeedback, CampaignSend
from ehrlich.consent.ledger.suppression import suppress
from ehrlich.errors import InvalidInput
from ehrlich.mail.interfaces import Mailbox
from ehrlich.storage.database import Database
from ehrlich.storage.upsert import PerDialect
from ehrlich.subjects.service import SUBJECT, SubjectsService

Source = Literal["webhook", "mailbox"]
Outcome = Literal["recorded", "repeated", "unmatched"]
ACCEPTED = ("sent", "handed")
PAUSE_REASON = "complaints"
_FEEDBACK = cast(Table, CampaignFeedback.__table__)
# RETURNING says whether the row is new (a conflict returns nothing), on both databases.
_INSERT = PerDialect(lambda insert: insert(_FEEDBACK).on_conflict_do_nothing()
                     .returning(_FEEDBACK.c.kind))
_REASONS = {"hard": "bounced", "complaint": "complained"}


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    campaign_id: str | None = None
    paused: bool = False


@dataclass(frozen=True)
class Tally:
    """A campaign's mail accepted by the server, and what was reported about it since."""

    accepted: int
    hard: int
    soft: int
    complaints: int

    @property
    def delivered(self) -> int:
        return max(self.accepted - self.hard, 0)

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.delivered if self.delivered else 0.0


def tally(session: Session, campaign_id: str) -> Tally:
    """Reports count only for mail the server accepted (a report cannot be about more)."""
    accepted = select(CampaignSend.subject_id).where(
        CampaignSend.campaign_id == campaign_id, CampaignSend.state.in_(ACCEPTED))
    sent = session.execute(select(func.count()).select_from(accepted.subquery())).scalar_one()
    kinds = dict(session.execute(
        select(CampaignFeedback.kind, func.count()).where(
            CampaignFeedback.campaign_id == campaign_id,
            CampaignFeedback.subject_id.in_(accepted)).group_by(CampaignFeedback.kind)).all())
    return Tally(accepted=int(sent), hard=int(kinds.get("hard", 0)),
                 soft=int(kinds.get("soft", 0)), complaints=int(kinds.get("complaint", 0)))


def pause_reason(tallied: Tally) -> str:
    """Kept on the campaign as `complaints:N:DELIVERED`; its page words it."""
    return f"{PAUSE_REASON}:{tallied.complaints}:{tallied.delivered}"


class FeedbackRecorder:
    """Applies bounce and complaint reports; built by the campaigns service."""

    def __init__(self, audit: AuditLog, subjects: SubjectsService, *,
                 email_purposes: Callable[[Session], Sequence[str]],
                 complaint_limit: float) -> None:
        self._audit = audit
        self._subjects = subjects
        self._email_purposes = email_purposes
        self._limit = complaint_limit

    def _address_index(self, address: str) -> bytes | None:
        try:
            return self._subjects.email_index(address)
        except InvalidInput:
            return None

    def record(self, db: Database, feedback: Feedback, *, source: Source,
               now: datetime) -> Recorded:
        with db.write() as session:
            found = session.execute(
                select(CampaignSend.campaign_id, CampaignSend.subject_id, Campaign.purpose)
                .join(Campaign, Campaign.id == CampaignSend.campaign_id)
                .where(CampaignSend.message_id == feedback.message_id)).first()
            if found is None:
                return Recorded("unmatched")
            campaign_id, subject_id, purpose = found
            index = session.execute(select(SUBJECT.email_index).where(
                SUBJECT.id == subject_id)).scalar_one_or_none()
            if (feedback.address is not None and index is not None
                    and self._address_index(feedback.address) != index):
                return Recorded("unmatched")
            conn = session.connection()
            added = conn.execute(_INSERT[conn.dialect.name], {
                "campaign_id": campaign_id, "subject_id": subject_id, "kind": feedback.kind,
                "status": feedback.status, "source": source, "received_at": now}).first()
            if added is None:
                return Recorded("repeated", campaign_id)
            if feedback.kind in _REASONS and index is not None:
                for each in dict.fromkeys([purpose, *self._email_purposes(session)]):
                    suppress(session, index, purpose=each, reason=_REASONS[feedback.kind],
                             now=now)
            action = "complaint" if feedback.kind == "complaint" else "bounce"
            self._audit.record(session, AuditEvent(f"system:{source}", f"campaign.{action}",
                                                   campaign_id, {
                "subject": subject_id, "kind": feedback.kind, "status": feedback.status}),
                now=now)
            paused = feedback.kind == "complaint" and self._pause_if_over(
                session, campaign_id, now=now)
        return Recorded("recorded", campaign_id, paused)

    def _pause_if_over(self, session: Session, campaign_id: str, *, now: datetime) -> bool:
        tallied = tally(session, campaign_id)
        if tallied.delivered == 0 or tallied.complaint_rate <= self._limit:
            return False
        row = session.execute(select(Campaign).where(Campaign.id == campaign_id)
                              .with_for_update()).scalar_one()
        if row.status not in ("sending", "scheduled"):
            return False
        row.status = transition(cast(Status, row.status), "pause")
        row.paused_reason = pause_reason(tallied)
        row.updated_at = now
        self._audit.record(session, AuditEvent("system:complaints", "campaign.pause", row.id, {
            "complaints": tallied.complaints, "delivered": tallied.delivered,
            "limit": self._limit}), now=now)
        return True


@dataclass(frozen=True)
class MailboxRun:
    handled: int
    """Reports that matched a campaign mail: recorded (or already), flagged and moved."""
    left_unread: int
    """Everything else (other mail, reports about no campaign mail), left for a person."""


def read_reports(recorder: FeedbackRecorder, db: Database, mailbox: Mailbox, *,
                 now: datetime) -> MailboxRun:
    """Record each unread DSN or ARF report; each recipient in a transaction of its own."""
    handled = left = 0
    for message in mailbox.unread():
        outcomes = [recorder.record(db, feedback, source="mailbox", now=now).outcome
                    for feedback in parse_report(message.raw)]
        if outcomes and all(o != "unmatched" for o in outcomes):
            mailbox.mark_handled(message.uid)  # after the commit: a crash between re-reads it
            handled += 1
        else:
            left += 1
    return MailboxRun(handled=handled, left_unread=left)
