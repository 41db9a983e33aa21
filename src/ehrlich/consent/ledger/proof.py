"""A printable proof of one consent, built from the stored snapshot only.

Starting from any event, the chain is walked back to the request (or grant)
that began this consent, and forward is not needed: the proof shows what
was shown (notice version and hash, the exact text and its hash, language,
form, default state), when it was asked, how it was confirmed (time, network,
user-agent hash, token hash, the mail template) and whether the chain still
verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ehrlich.consent.ledger.service import _view, verify_chain
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.schemas import ConsentEventView
from ehrlich.errors import NotFound

STARTS = ("requested", "granted")
MAX_STEPS = 10_000


@dataclass(frozen=True)
class Proof:
    subject_id: str
    purpose: str
    channel: str
    shown: ConsentEventView
    events: list[ConsentEventView]
    chain_intact: bool


def build_proof(session: Session, event_id: str, *, subject_id: str | None = None) -> Proof:
    """Raises `NotFound` for an unknown event (or one of another subject)."""
    event = session.get(ConsentEvent, event_id)
    if event is None or (subject_id is not None and event.subject_id != subject_id):
        raise NotFound("there is no such consent event")
    events = [event]
    cursor = event
    while cursor.action not in STARTS and cursor.prev_event_id and len(events) < MAX_STEPS:
        previous = session.get(ConsentEvent, cursor.prev_event_id)
        if previous is None:
            break
        events.append(previous)
        cursor = previous
    events.reverse()
    shown = next((e for e in events if e.text_shown is not None), events[0])
    return Proof(event.subject_id, event.purpose, event.channel, _view(shown),
                 [_view(e) for e in events],
                 verify_chain(session, event.subject_id, event.purpose, event.channel))
