"""The suppression list: blind indexes of addresses that left, per purpose or for all ("*").

A suppressed address cannot be enrolled again by import, API or staff
(`granted`); the person can still ask again themselves, and their confirmed
double opt-in lifts the suppression for that purpose. Erasure suppresses for
all purposes, and that entry is never lifted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.consent.models import ALL_PURPOSES, Suppression
from ehrlich.subjects.ledger import ErasureRecord


def suppress(session: Session, email_index: bytes, *, purpose: str, reason: str,
             now: datetime) -> None:
    """Idempotent: an address already suppressed keeps its first reason and time."""
    if is_suppressed(session, email_index, purpose, exact=True):
        return
    try:
        with session.begin_nested():
            session.execute(insert(Suppression).values(
                email_index=email_index, purpose=purpose, reason=reason, created_at=now))
    except IntegrityError:
        pass  # a concurrent transaction suppressed it first


def suppress_everywhere(session: Session, email_index: bytes, *, reason: str,
                        now: datetime) -> None:
    """For erased addresses: no purpose may enrol them again by import or API."""
    suppress(session, email_index, purpose=ALL_PURPOSES, reason=reason, now=now)


def suppress_erased(session: Session, record: ErasureRecord) -> None:
    """Erasure hook: an erased address cannot be enrolled again by import or API."""
    if record.email_index is not None:
        suppress_everywhere(session, record.email_index, reason="erased",
                            now=record.erased_at)


def is_suppressed(session: Session, email_index: bytes, purpose: str, *,
                  exact: bool = False) -> bool:
    purposes = [purpose] if exact else [purpose, ALL_PURPOSES]
    return session.execute(
        select(Suppression.purpose).where(Suppression.email_index == email_index,
                                          Suppression.purpose.in_(purposes)).limit(1)
    ).first() is not None


def lift(session: Session, email_index: bytes, *, purpose: str) -> None:
    """After the person's own confirmed opt-in; never lifts an erasure ("*")."""
    if purpose == ALL_PURPOSES:
        return
    session.execute(delete(Suppression).where(Suppression.email_index == email_index,
                                              Suppression.purpose == purpose))
