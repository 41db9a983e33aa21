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
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent.ledger.evidence import gpc_signal
from ehrlich.consent.ledger.machine import OPEN, State
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.schemas import ConsentInput, Evidence, RecordOutcome
from ehrlich.consent.signup.offers import Offer
from ehrlich.notices.service import PublishedNotice


@dataclass(frozen=True)
class Choice:
    offer: Offer
    state: State
    last_event_id: str | None
    blocked_by_gpc: bool


_STATES = cast(Table, ConsentState.__table__)
# Built once: every preference page reads the person's states.
_STATES_OF = select(_STATES.c.purpose, _STATES.c.channel, _STATES.c.state,
                    _STATES.c.last_event_id).where(_STATES.c.subject_id == bindparam("subject_id"))


States = dict[tuple[str, str], tuple[State, str | None]]
"""(purpose, channel) -> (state, last event id)"""


def _states(session: Session, subject_id: str) -> States:
    """Every consent of the subject."""
    return {(r.purpose, r.channel): (r.state, r.last_event_id) for r in
            session.connection().execute(_STATES_OF, {"subject_id": subject_id})}


def choices(session: Session, subject_id: str, offers: list[Offer], *, gpc: bool,
            known: States | None = None) -> list[Choice]:
    """What the page shows; `known` is what `change` returned, read again when absent."""
    known = _states(session, subject_id) if known is None else known
    return [Choice(offer, *known.get((offer.purpose, offer.channel), ("none", None)),
                   gpc and offer.third_party) for offer in offers]


def _withdraw(session: Session, audit: AuditLog, subject_id: str, offer: Offer, state: State,
              *, evidence: Evidence, now: datetime, audit_events: list[AuditEvent]
              ) -> RecordOutcome | None:
    if state not in OPEN:
        return None
    return record_consent(session, audit, ConsentInput(
        subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
        action="withdrawn", method="preference-centre", evidence=evidence),
        actor="subject", now=now, audit_events=audit_events)


def honour_gpc(session: Session, audit: AuditLog, subject_id: str, offers: list[Offer], *,
               evidence: Evidence, now: datetime) -> list[str]:
    """With `Sec-GPC: 1`, withdraw every open consent shared with third-party controllers."""
    if not gpc_signal(evidence.sec_gpc):
        return []
    known = _states(session, subject_id)
    pending: list[AuditEvent] = []
    withdrawn = [o.purpose for o in offers if o.third_party and _withdraw(
        session, audit, subject_id, o, known.get((o.purpose, o.channel), ("none", None))[0],
        evidence=evidence, now=now, audit_events=pending) is not None]
    audit.record_many(session, pending, now=now)
    return withdrawn


def _remember(known: States, offer: Offer, outcome: RecordOutcome) -> None:
    if outcome.changed:
        known[(offer.purpose, offer.channel)] = (outcome.state, outcome.event_id)


def change(session: Session, audit: AuditLog, subject_id: str, offers: list[Offer],
           published: PublishedNotice, *, ticked: set[str], token: str, form: str,
           evidence: Evidence, now: datetime) -> States:
    """Make the consents match the ticked purposes; returns the states afterwards."""
    gpc = gpc_signal(evidence.sec_gpc)
    known = _states(session, subject_id)
    pending: list[AuditEvent] = []  # one audit append for all the events
    for offer in offers:
        state = known.get((offer.purpose, offer.channel), ("none", None))[0]
        wants = offer.purpose in ticked and not (gpc and offer.third_party)
        if wants and state != "active":
            # The confirmation repeats what the request showed, as a confirmation
            # by mail link would read it back from the request.
            shown = {"notice_version": published.info.number,
                     "notice_hash": f"sha256:{published.info.sha256}",
                     "language": offer.language, "text_shown": offer.text, "form": form}
            record_consent(session, audit, ConsentInput(
                subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
                action="requested", method="preference-centre", evidence=evidence, **shown),
                actor="subject", now=now, audit_events=pending)
            confirmed = record_consent(session, audit, ConsentInput(
                subject_id=subject_id, purpose=offer.purpose, channel=offer.channel,
                action="confirmed", method="email-confirmation",
                evidence=evidence.model_copy(update={"token": token}),
                extra={"via": "preference-link"}, **shown), actor="subject", now=now,
                audit_events=pending)
            _remember(known, offer, confirmed)
        elif not wants:
            withdrawn = _withdraw(session, audit, subject_id, offer, state, evidence=evidence,
                                  now=now, audit_events=pending)
            if withdrawn is not None:
                _remember(known, offer, withdrawn)
    audit.record_many(session, pending, now=now)
    return known


def withdraw_all(session: Session, audit: AuditLog, subject_id: str, *, evidence: Evidence,
                 now: datetime) -> list[str]:
    """Every open consent of the person, on every channel, in one step."""
    rows = session.execute(select(ConsentState.purpose, ConsentState.channel).where(
        ConsentState.subject_id == subject_id, ConsentState.state.in_(OPEN))
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
