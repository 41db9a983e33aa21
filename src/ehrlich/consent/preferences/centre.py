"""The preference centre's three steps, each in its own transaction: show, save, and
withdraw everything. The routes only check the link and render what these return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.evidence import gpc_signal
from ehrlich.consent.preferences import service as preferences
from ehrlich.consent.schemas import Evidence
from ehrlich.consent.signup.offers import offers
from ehrlich.notices.service import NoticesService, PublishedNotice
from ehrlich.storage.database import Database
from ehrlich.subjects.errors import SubjectErased
from ehrlich.subjects.service import ERASED, subject_state


@dataclass(frozen=True)
class CentreView:
    choices: list[preferences.Choice]
    gpc: bool
    """the visitor's browser sent `Sec-GPC: 1`"""
    gpc_changed: bool
    """consents shared with third parties were withdrawn on this visit because of it"""
    contact: str


def _view(session: Session, subject_id: str, published: PublishedNotice, language: str, *,
          evidence: Evidence, honoured: list[str] | None = None,
          known: preferences.States | None = None) -> CentreView:
    gpc = gpc_signal(evidence.sec_gpc)
    shown = preferences.choices(session, subject_id, offers(published, language), gpc=gpc,
                                known=known)
    return CentreView(shown, gpc, bool(honoured), published.notice.controller.contact)


def _not_erased(session: Session, subject_id: str) -> None:
    """A link outlives its person; after the erasure it opens and changes nothing."""
    if subject_state(session, subject_id) == ERASED:
        raise SubjectErased(f"subject {subject_id} was erased")


def view(db: Database, audit: AuditLog, notices: NoticesService, subject_id: str, *,
         language: str, evidence: Evidence, now: datetime) -> CentreView:
    """The page; under GPC the visit withdraws consents shared with third parties (a write).

    Raises `SubjectErased` for a link that outlived its person."""
    with db.write() if gpc_signal(evidence.sec_gpc) else db.read() as session:
        _not_erased(session, subject_id)
        published = notices.current(session)
        honoured = preferences.honour_gpc(session, audit, subject_id,
                                          offers(published, language), evidence=evidence,
                                          now=now)
        return _view(session, subject_id, published, language, evidence=evidence,
                     honoured=honoured)


def save(db: Database, audit: AuditLog, notices: NoticesService, subject_id: str, *,
         language: str, ticked: set[str], token: str, evidence: Evidence,
         now: datetime) -> CentreView:
    """Make the consents match the ticked purposes (GPC already holds back third parties)."""
    with db.write() as session:
        _not_erased(session, subject_id)
        published = notices.current(session)
        known = preferences.change(session, audit, subject_id, offers(published, language),
                                   published, ticked=ticked, token=token,
                                   form="preference-centre", evidence=evidence, now=now)
        return _view(session, subject_id, published, language, evidence=evidence,
                     known=known)


def withdraw_all(db: Database, audit: AuditLog, notices: NoticesService, subject_id: str, *,
                 language: str, evidence: Evidence, now: datetime) -> CentreView:
    with db.write() as session:
        _not_erased(session, subject_id)
        preferences.withdraw_all(session, audit, subject_id, evidence=evidence, now=now)
        return _view(session, subject_id, notices.current(session), language,
                     evidence=evidence)
