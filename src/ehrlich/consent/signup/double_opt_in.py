"""Following the links of the confirmation mail, and letting unanswered requests expire.

`confirm` records `confirmed` only for the very request the link was made
for: a replayed link answers "already confirmed" and records nothing; a link
whose request was cancelled, expired or superseded changes nothing. With a
Global Privacy Control signal, purposes shared with third-party controllers
are withdrawn instead of confirmed. After the hourly expiry
(`consent.signup.expiry`), `erase_expired_signups` erases people who came only
through signup and whose every request expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.evidence import gpc_signal
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput, Evidence
from ehrlich.consent.signup.links import (
    preferences_token,
    read_cancel_token,
    read_confirm_token,
)
from ehrlich.consent.signup.offers import Offer, offer_map
from ehrlich.consent.signup.service import SOURCE_PREFIX
from ehrlich.crypto import Keyring, TokenExpired, TokenInvalid
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticesService
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.service import ACTIVE, SUBJECT, SubjectsService

ConfirmStatus = Literal["confirmed", "already", "stale", "invalid", "expired"]
EXPIRY_ACTOR = "system:confirmation-expiry"


@dataclass(frozen=True)
class ConfirmOutcome:
    status: ConfirmStatus
    confirmed: list[str] = field(default_factory=list)
    gpc_withdrawn: list[str] = field(default_factory=list)
    preferences_token: str | None = None


def check_confirm_link(keyring: Keyring, token: str, *, now: datetime) -> ConfirmStatus | None:
    """None when the link may be followed, otherwise why not (for the GET page)."""
    try:
        read_confirm_token(keyring, token, now=now)
    except TokenExpired:
        return "expired"
    except TokenInvalid:
        return "invalid"
    return None


def titles_to_confirm(db: Database, keyring: Keyring, notices: NoticesService, token: str, *,
                      language: str, now: datetime) -> list[str]:
    """The titles of the purposes a confirmation link asks for, as the signup form showed
    them in `language`, so that its page can name them (none when the link cannot be
    followed or no notice is published)."""
    try:
        wanted = sorted(read_confirm_token(keyring, token, now=now).requests)
    except (TokenExpired, TokenInvalid):
        return []
    try:
        with db.read() as session:
            shown = offer_map(notices.current(session), language)
    except NoticeNotPublished:
        return []
    return [shown[p].title for p in wanted if p in shown]


def confirm(session: Session, audit: AuditLog, keyring: Keyring, token: str, *,
            offers: dict[str, Offer], evidence: Evidence, now: datetime) -> ConfirmOutcome:
    try:
        claims = read_confirm_token(keyring, token, now=now)
    except TokenExpired:
        return ConfirmOutcome("expired")
    except TokenInvalid:
        return ConfirmOutcome("invalid")
    gpc = gpc_signal(evidence.sec_gpc)
    evidence = evidence.model_copy(update={"token": token})
    extra = {"mail_template": claims.template_hash[:64],
             "mail_sent_at": datetime.fromtimestamp(claims.sent_at, UTC).isoformat()}
    confirmed: list[str] = []
    withdrawn: list[str] = []
    already = 0
    for purpose, request_id in sorted(claims.requests.items()):
        state = session.execute(select(ConsentState).where(
            ConsentState.subject_id == claims.subject_id, ConsentState.purpose == purpose,
            ConsentState.channel == claims.channel)).scalar_one_or_none()
        if state is None:
            continue
        if state.state == "active":
            already += 1
            continue
        if state.state != "requested" or state.last_event_id != request_id:
            continue  # cancelled, expired or asked again since: this link is spent
        offer = offers.get(purpose)
        action = "withdrawn" if gpc and (offer is None or offer.third_party) else "confirmed"
        try:
            record_consent(session, audit, ConsentInput(
                subject_id=claims.subject_id, purpose=purpose, channel=claims.channel,
                action=action, method="email-confirmation", evidence=evidence, extra=extra),
                actor="subject", now=now)
        except (SubjectNotFound, SubjectErased):
            return ConfirmOutcome("invalid")
        (withdrawn if action == "withdrawn" else confirmed).append(purpose)
    prefs = preferences_token(keyring, subject_id=claims.subject_id, now=now)
    if confirmed or withdrawn:
        return ConfirmOutcome("confirmed", confirmed, withdrawn, prefs)
    return ConfirmOutcome("already" if already else "stale", preferences_token=prefs
                          if already else None)


def confirm_link(db: Database, audit: AuditLog, keyring: Keyring, notices: NoticesService,
                 token: str, *, language: str, evidence: Evidence, now: datetime
                 ) -> ConfirmOutcome:
    """`confirm` in a transaction of its own, against the published notice's offers."""
    with db.write() as session:
        available = offer_map(notices.current(session), language)
        return confirm(session, audit, keyring, token, offers=available, evidence=evidence,
                       now=now)


def cancel(session: Session, audit: AuditLog, keyring: Keyring, token: str, *,
           evidence: Evidence, now: datetime) -> bool:
    """The confirmation mail's one-click link: withdraw its purposes. Idempotent; the
    caller answers the same whatever this returns."""
    try:
        subject_id, channel, purposes = read_cancel_token(keyring, token, now=now)
    except TokenInvalid:
        return False
    evidence = evidence.model_copy(update={"token": token})
    for purpose in purposes:
        try:
            record_consent(session, audit, ConsentInput(
                subject_id=subject_id, purpose=purpose, channel=channel, action="withdrawn",
                method="one-click-unsubscribe", evidence=evidence), actor="subject", now=now)
        except (SubjectNotFound, SubjectErased):  # an erased person's link changes nothing
            return False
    return True


def erase_expired_signups(db: Database, subjects: SubjectsService, *, now: datetime,
                          batch: int = 500) -> int:
    """Erase people who came only through signup and whose every consent request
    expired unconfirmed: nothing else holds their data. Returns how many."""
    others = (select(ConsentState.subject_id)
              .where(ConsentState.state != "expired").scalar_subquery())
    with db.read() as session:
        ids = list(session.execute(
            select(SUBJECT.id).where(
                SUBJECT.state == ACTIVE, SUBJECT.source.startswith(SOURCE_PREFIX),
                SUBJECT.id.in_(select(ConsentState.subject_id)),
                SUBJECT.id.not_in(others))
            .order_by(SUBJECT.id).limit(batch)).scalars())
    return len(subjects.erase_many(db, ids, actor=EXPIRY_ACTOR, now=now,
                                   reason="consent request never confirmed"))
