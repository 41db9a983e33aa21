"""The preference centre: each offered purpose with its text and state, changed by the
person through their preference link.

The link reached the person by email, so ticking a purpose here records
`requested` (with the text shown) and at once `confirmed` (method
email-confirmation, the link's token as evidence). With a Global Privacy
Control signal, purposes shared with third-party controllers cannot be
ticked, and any consent to them is withdrawn on the visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.evidence import gpc_signal
from ehrlich.consent.machine import State
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.offers import Offer
from ehrlich.consent.schemas import ConsentInput, Evidence
from ehrlich.consent.service import current_state, record_consent
from ehrlich.notices.service import PublishedNotice

ENDABLE = ("active", "requested", "renewal-needed")


@dataclass(frozen=True)
class Choice:
    offer: Offer
    state: State
    last_event_id: str | None
    blocked_by_gpc: bool


def choices(session: Session, subject_id: str, offers: list[Offer], *, gpc: bool
            ) -> list[Choice]:
    rows = {r.purpose: r for r in session.execute(select(ConsentState).where(
        ConsentState.subject_id == subject_id)).scalars()}
    found = []
    for offer in offers:
        row = rows.get(offer.purpose)
        state: State = row.state if row is not None else "none"  # type: ignore[assignment]
        found.append(Choice(offer, state, row.last_event_id if row else None,
                            gpc and offer.third_party))
    return found


def _withdraw(session: Session, audit: AuditLog, subject_id: str, offer: Offer, *,
              evidence: Evidence, now: datetime) -> bool:
    if current_state(session, subject_id, offer.purpose, offer.channel) not in ENDABLE:
        return False
    record_consent(session, audit, ConsentInput(
        subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
        action="withdrawn", method="preference-centre", evidence=evidence),
        actor="subject", now=now)
    return True


def honour_gpc(session: Session, audit: AuditLog, subject_id: str, offers: list[Offer], *,
               evidence: Evidence, now: datetime) -> list[str]:
    """With `Sec-GPC: 1`, withdraw every open consent shared with third-party controllers."""
    if not gpc_signal(evidence.sec_gpc):
        return []
    return [o.purpose for o in offers if o.third_party
            and _withdraw(session, audit, subject_id, o, evidence=evidence, now=now)]


def change(session: Session, audit: AuditLog, subject_id: str, offers: list[Offer],
           published: PublishedNotice, *, ticked: set[str], token: str, form: str,
           evidence: Evidence, now: datetime) -> list[str]:
    """Make the consents match the ticked purposes; returns the purposes that changed."""
    gpc = gpc_signal(evidence.sec_gpc)
    changed = []
    for offer in offers:
        state = current_state(session, subject_id, offer.purpose, offer.channel)
        wants = offer.purpose in ticked and not (gpc and offer.third_party)
        if wants and state != "active":
            record_consent(session, audit, ConsentInput(
                subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
                action="requested", method="preference-centre",
                notice_version=published.info.number,
                notice_hash=f"sha256:{published.info.sha256}", language=offer.language,
                text_shown=offer.text, form=form, evidence=evidence), actor="subject", now=now)
            record_consent(session, audit, ConsentInput(
                subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
                action="confirmed", method="email-confirmation",
                evidence=evidence.model_copy(update={"token": token}),
                extra={"via": "preference-link"}), actor="subject", now=now)
            changed.append(offer.purpose)
        elif not wants and _withdraw(session, audit, subject_id, offer, evidence=evidence,
                                     now=now):
            changed.append(offer.purpose)
    return changed


def withdraw_all(session: Session, audit: AuditLog, subject_id: str, *, evidence: Evidence,
                 now: datetime) -> list[str]:
    """Every open consent of the person, on every channel, in one step."""
    rows = session.execute(select(ConsentState.purpose, ConsentState.channel).where(
        ConsentState.subject_id == subject_id, ConsentState.state.in_(ENDABLE))
        .order_by(ConsentState.purpose)).all()
    for purpose, channel in rows:
        record_consent(session, audit, ConsentInput(
            subject_id=subject_id, purpose=purpose, channel=channel, action="withdrawn",
            method="preference-centre", evidence=evidence), actor="subject", now=now)
    return [purpose for purpose, _ in rows]


def event_of(session: Session, subject_id: str, event_id: str) -> ConsentEvent | None:
    """A consent event, only if it belongs to the subject (for the person's proof page)."""
    event = session.get(ConsentEvent, event_id)
    return event if event is not None and event.subject_id == subject_id else None
