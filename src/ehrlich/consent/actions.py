"""Consent actions that the public pages and the API call: one-click unsubscribe
and the consent check by address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.links import read_unsubscribe_token
from ehrlich.consent.machine import State, is_active
from ehrlich.consent.models import ConsentState, Suppression
from ehrlich.consent.schemas import ConsentCheck, ConsentInput, Evidence
from ehrlich.consent.service import record_consent
from ehrlich.crypto import Keyring, TokenInvalid
from ehrlich.subjects.errors import SubjectNotFound
from ehrlich.subjects.models import STATE_ACTIVE, Subject
from ehrlich.subjects.service import SubjectsService


def one_click_unsubscribe(session: Session, audit: AuditLog, keyring: Keyring, token: str, *,
                          evidence: Evidence, now: datetime) -> bool:
    """Withdraw the consent the token names, at once (RFC 8058).

    Idempotent; cancels a pending double opt-in too. Returns whether the token
    was valid, which callers must not reveal: every answer looks the same.
    """
    try:
        subject_id, purpose, channel = read_unsubscribe_token(keyring, token, now=now)
    except TokenInvalid:
        return False
    try:
        record_consent(session, audit, ConsentInput(
            subject_id=subject_id, purpose=purpose, channel=channel, action="withdrawn",
            method="one-click-unsubscribe",
            evidence=evidence.model_copy(update={"token": token})),
            actor="subject", now=now)
    except SubjectNotFound:
        return False
    return True


def check_consent(session: Session, subjects: SubjectsService, *, email: str, purpose: str,
                  channel: str) -> ConsentCheck:
    """May this address be contacted for the purpose on the channel right now? One query."""
    index = subjects.email_index(email)
    suppressed = exists().where(Suppression.email_index == index,
                                Suppression.purpose == purpose)
    row = session.connection().execute(
        select(ConsentState.state, suppressed.label("suppressed"))
        .select_from(Subject).outerjoin(ConsentState, and_(
            ConsentState.subject_id == Subject.id, ConsentState.purpose == purpose,
            ConsentState.channel == channel))
        .where(Subject.email_index == index, Subject.state == STATE_ACTIVE)).first()
    state: State = (row.state or "none") if row is not None else "none"
    allowed = is_active(state) and not (row is not None and row.suppressed)
    return ConsentCheck(purpose=purpose, channel=channel, allowed=allowed, state=state)
