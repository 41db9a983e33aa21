"""Consent actions that the public pages and the API call: one-click unsubscribe,
the consent check by address, a subject's history, the send-time check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.consent.ledger.machine import State, is_active
from ehrlich.consent.ledger.service import current_state, history, record_consent
from ehrlich.consent.models import ConsentState, Suppression
from ehrlich.consent.schemas import (
    ConsentCheck,
    ConsentEventView,
    ConsentInput,
    Evidence,
    Method,
)
from ehrlich.consent.unsubscribe.links import read_unsubscribe_token
from ehrlich.crypto import Keyring, TokenInvalid
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.subjects.service import ACTIVE, SUBJECT, SubjectsService, subject_state


def one_click_unsubscribe(session: Session, audit: AuditLog, keyring: Keyring, token: str, *,
                          evidence: Evidence, now: datetime,
                          method: Method = "one-click-unsubscribe") -> bool:
    """Withdraw the consent the token names, at once (RFC 8058, or `mail-request` for
    the mailto of RFC 2369).

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
            method=method, evidence=evidence.model_copy(update={"token": token})),
            actor="subject", now=now)
    except (SubjectNotFound, SubjectErased):  # an erased person's link changes nothing
        return False
    return True


# Built once: one round trip per check, and no statement construction per request.
_CHECK = (
    select(SUBJECT.id, ConsentState.state,
           exists().where(Suppression.email_index == bindparam("index"),
                          Suppression.purpose == bindparam("purpose")).label("suppressed"))
    .outerjoin(ConsentState, and_(ConsentState.subject_id == SUBJECT.id,
                                  ConsentState.purpose == bindparam("purpose"),
                                  ConsentState.channel == bindparam("channel")))
    .where(SUBJECT.email_index == bindparam("index"), SUBJECT.state == ACTIVE)
)


def _answer(row: Row[str, str, bool] | Row[Any] | None, purpose: str, channel: str
            ) -> ConsentCheck:
    state: State = "none" if row is None or row.state is None else row.state
    allowed = row is not None and is_active(state) and not row.suppressed
    return ConsentCheck(purpose=purpose, channel=channel, allowed=allowed, state=state)


def check_consent(session: Session, subjects: SubjectsService, *, email: str, purpose: str,
                  channel: str) -> ConsentCheck:
    """May this address be contacted for the purpose on the channel right now?"""
    params = {"index": subjects.email_index(email), "purpose": purpose, "channel": channel}
    return _answer(session.connection().execute(_CHECK, params).first(), purpose, channel)


async def check_address(db: Database, subjects: SubjectsService, *, email: str,
                        purpose: str, channel: str) -> ConsentCheck:
    """`check_consent` as one statement of its own, from the event loop (no Session and,
    on SQLite, no worker thread: the API asks before every send; `Database.first`)."""
    params = {"index": subjects.email_index(email), "purpose": purpose, "channel": channel}
    return _answer(await db.first(_CHECK, params), purpose, channel)


def mail_still_wanted(session: Session, keyring: Keyring, unsubscribe_url: str, *,
                      category: str, now: datetime) -> bool:
    """At send time: does the consent behind a queued mail still hold?

    A marketing mail needs active consent; a double opt-in confirmation needs
    the request still pending (or already confirmed). Mail whose link is not
    one of ours is not judged here.
    """
    token = unsubscribe_url.rstrip("/").rsplit("/unsubscribe/", 1)[-1]
    try:
        subject_id, purpose, channel = read_unsubscribe_token(keyring, token, now=now)
    except TokenInvalid:
        return True
    if subject_state(session, subject_id) != ACTIVE:
        return False
    state = current_state(session, subject_id, purpose, channel)
    return is_active(state) if category == "marketing" else state in ("requested", "active")


def subject_history(session: Session, audit: AuditLog, subject_id: str, *, actor: str,
                    now: datetime) -> list[ConsentEventView]:
    """A subject's consent events (kept after erasure, as proof); the read is audited."""
    if subject_state(session, subject_id) is None:
        raise SubjectNotFound(f"no subject with id {subject_id}")
    events = history(session, subject_id)
    audit.record(session, AuditEvent(actor, "consent.history.read", subject_id), now=now)
    return events


def staff_history(session: Session, subjects: SubjectsService, query: str, *, actor: str,
                  now: datetime) -> tuple[str, list[ConsentEventView]]:
    """A subject's consent events, found by subject id or by email address (through
    the blind index, audited); the id found and the events, oldest first."""
    text = query.strip()
    subject_id = subjects.id_for_email(session, text, actor=actor, now=now) if "@" in text \
        else text
    return subject_id, history(session, subject_id)


def consent_still_holds(session: Session, keyring: Keyring, job: Mapping[str, Any],
                        now: datetime) -> bool:
    """Send-time check: a mail whose consent was withdrawn while it waited is dropped."""
    url = job.get("unsubscribe_url")
    if not url:
        return True
    return mail_still_wanted(session, keyring, url, category=job["category"], now=now)
