"""What keeps a person under each purpose, read from the ledger for the retention run.

`purpose_activity` answers, for a batch of people, per purpose: the state that holds
them most (active before renewal-needed before requested before the ended states,
across channels), since when, their last event under it, and whether consent was
ever given. `proof_expired` and `forget_proof` end the pseudonymous consent proof of
erased people once it has been kept as long as declared (`consent_proof_years`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, case, delete, func, select
from sqlalchemy.orm import Session

from ehrlich.consent import counts
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.subjects.service import ERASED, SUBJECT

_EVENTS = cast(Table, ConsentEvent.__table__)
_STATES = cast(Table, ConsentState.__table__)
# Which state holds a person most, when channels of one purpose differ.
_HOLD_ORDER = ("active", "renewal-needed", "requested", "withdrawn", "objected", "expired")


@dataclass(frozen=True)
class PurposeActivity:
    purpose: str
    state: str
    since: datetime
    """When the person's holding state under the purpose began (latest channel)."""
    last_at: datetime
    """The person's last consent event under the purpose."""
    ever_given: bool
    """Confirmed or granted at some time: a signup that never was stays unconfirmed."""


def _rank(state: str) -> int:
    return _HOLD_ORDER.index(state) if state in _HOLD_ORDER else len(_HOLD_ORDER)


def purpose_activity(session: Session, subject_ids: Sequence[str]
                     ) -> dict[str, list[PurposeActivity]]:
    """Per person in `subject_ids`, per purpose with records: see `PurposeActivity`."""
    if not subject_ids:
        return {}
    given = func.max(case((_EVENTS.c.action.in_(("confirmed", "granted")), 1), else_=0))
    events = {(sid, purpose): (last, bool(ever)) for sid, purpose, last, ever in
              session.execute(select(_EVENTS.c.subject_id, _EVENTS.c.purpose,
                                     func.max(_EVENTS.c.at), given)
                              .where(_EVENTS.c.subject_id.in_(subject_ids))
                              .group_by(_EVENTS.c.subject_id, _EVENTS.c.purpose))}
    best: dict[tuple[str, str], tuple[str, datetime]] = {}
    for sid, purpose, state, since in session.execute(
            select(_STATES.c.subject_id, _STATES.c.purpose, _STATES.c.state, _STATES.c.since)
            .where(_STATES.c.subject_id.in_(subject_ids))):
        key = (sid, purpose)
        held = best.get(key)
        if held is None or (_rank(state), -since.timestamp()) < (_rank(held[0]),
                                                                  -held[1].timestamp()):
            best[key] = (state, since)
    found: dict[str, list[PurposeActivity]] = {}
    for (sid, purpose), (state, since) in sorted(best.items()):
        last, ever = events.get((sid, purpose), (since, False))
        found.setdefault(sid, []).append(PurposeActivity(
            purpose=purpose, state=state, since=since, last_at=max(last, since),
            ever_given=ever))
    return found


def proof_expired(session: Session, *, before: datetime, limit: int = 500,
                  after: str = "") -> list[str]:
    """Erased people whose last consent event is older than `before`: their proof
    (pseudonymous tombstones) has been kept as long as declared. In id order, from
    after the id `after`, at most `limit`."""
    return list(session.execute(
        select(_EVENTS.c.subject_id)
        .where(_EVENTS.c.subject_id > after,
               _EVENTS.c.subject_id.in_(select(SUBJECT.id).where(SUBJECT.state == ERASED)))
        .group_by(_EVENTS.c.subject_id).having(func.max(_EVENTS.c.at) < before)
        .order_by(_EVENTS.c.subject_id).limit(limit)).scalars())


def forget_proof(session: Session, subject_ids: Sequence[str]) -> int:
    """Delete the consent events and states of erased people (see `proof_expired`);
    the overview's active count follows. Returns how many events went."""
    if not subject_ids:
        return 0
    erased = set(session.execute(select(SUBJECT.id).where(
        SUBJECT.id.in_(subject_ids), SUBJECT.state == ERASED)).scalars())
    ids = sorted(erased)
    if not ids:
        return 0
    active = Counter((p, c) for p, c in session.execute(
        select(_STATES.c.purpose, _STATES.c.channel).where(
            _STATES.c.subject_id.in_(ids), _STATES.c.state == "active")))
    if active:
        counts.count_active(session, {k: -n for k, n in active.items()})
    session.execute(delete(_STATES).where(_STATES.c.subject_id.in_(ids)))
    gone = session.execute(delete(_EVENTS).where(_EVENTS.c.subject_id.in_(ids)))
    return int(cast("CursorResult[Any]", gone).rowcount or 0)
