"""The send table as the bulk sender's `Ledger`: one commit around each SMTP transaction.

`hand_over` runs the registered send-time checks (the consent domain's: is the
consent behind this mail still active?) and then marks the row `handed`, just
before the final dot, so a withdrawal committed a moment earlier still stops
the mail. Hand-overs from several connections are committed together (group
commit: the connection that finds no commit under way leads it, the others wait
for it), so the database's one writer is not taken once per message. `settle`
records answers: `sent`; `deferred` with the next try after a doubling delay;
`bounced` for a 5xx or when the tries are used up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, bindparam, text, update
from sqlalchemy.orm import Session

from ehrlich.campaigns.models import CampaignSend
from ehrlich.crypto import Keyring
from ehrlich.mail.bulk import Result
from ehrlich.mail.interfaces import SendCheck
from ehrlich.storage.database import Database

_SENDS = cast(Table, CampaignSend.__table__)
_OPEN = ("queued", "deferred")
_FAST_COMMIT = text("SET LOCAL synchronous_commit = off")


@dataclass(frozen=True)
class Ticket:
    """What the bulk sender carries for each message back to the ledger: no address."""

    subject_id: str
    consent_event_id: str | None
    unsubscribe_url: str
    attempts: int


@dataclass
class _HandOver:
    ticket: Ticket
    settled: tuple[Result, ...]
    wanted: bool = False
    error: Exception | None = None
    finished: bool = False
    event: threading.Event = field(default_factory=threading.Event)


def _row(campaign_id: str, ticket: Ticket):  # type: ignore[no-untyped-def]
    return and_(_SENDS.c.campaign_id == campaign_id, _SENDS.c.subject_id == ticket.subject_id)


class CampaignLedger:
    def __init__(self, db: Database, keyring: Keyring, campaign_id: str, *,
                 send_checks: Sequence[SendCheck], clock: Callable[[], datetime],
                 retry_delay: int, retries: int) -> None:
        self._db = db
        self._keyring = keyring
        self._campaign_id = campaign_id
        self._checks = tuple(send_checks)
        self._clock = clock
        self._retry_delay = retry_delay
        self._retries = retries
        self._group = threading.Lock()
        self._waiting: list[_HandOver] = []
        self._committing = False
        self.counts = {"sent": 0, "deferred": 0, "bounced": 0, "skipped": 0, "in-doubt": 0}

    def _apply(self, session: Session, results: Sequence[Result], now: datetime) -> None:
        sent = [r.ticket.subject_id for r in results if r.outcome == "sent"]
        if sent:
            session.connection().execute(
                update(_SENDS).where(_SENDS.c.campaign_id == self._campaign_id,
                                     _SENDS.c.subject_id == bindparam("sid"),
                                     _SENDS.c.state == "handed")
                .values(state="sent", updated_at=now, last_reply="250"),
                [{"sid": sid} for sid in sent])
        for result in results:
            self.counts[result.outcome] += 1
            ticket = cast(Ticket, result.ticket)
            if result.outcome in ("sent", "in-doubt"):
                continue
            values: dict[str, object] = {"state": result.outcome, "updated_at": now,
                                         "last_reply": result.reply[:200]}
            if result.outcome == "deferred":
                tries = ticket.attempts + 1
                if tries > self._retries:
                    values.update(state="bounced", last_reply=f"gave up: {result.reply}"[:200])
                else:
                    values.update(attempts=tries, next_attempt_at=now + timedelta(
                        seconds=self._retry_delay * 2 ** (tries - 1)))
            session.connection().execute(
                update(_SENDS).where(_row(self._campaign_id, ticket)).values(**values))

    def hand_over(self, ticket: Ticket, settled: Sequence[Result]) -> bool:
        """Wait until this hand-over is committed, with whatever other connections handed
        over meanwhile (one transaction for all, `_commit_group`). The connection that
        finds no commit under way leads one; the first to wait meanwhile leads the next,
        so no leader's own final dot waits behind other groups."""
        request = _HandOver(ticket, tuple(settled))
        with self._group:
            self._waiting.append(request)
            lead = not self._committing
            self._committing = True
        while True:
            if lead:
                self._lead()
            request.event.wait()
            request.event.clear()
            if request.finished:
                break
            lead = True  # handed the lead
        if request.error is not None:
            raise request.error
        return request.wanted

    def _lead(self) -> None:
        with self._group:
            group, self._waiting = self._waiting, []
        try:
            self._commit_group(group)
        except Exception as exc:
            for request in group:
                request.error = exc
        with self._group:
            if self._waiting:
                self._waiting[0].event.set()  # the next group's leader
            else:
                self._committing = False
        for request in group:
            request.finished = True
            request.event.set()

    def _commit_group(self, group: list[_HandOver]) -> None:
        now = self._clock()
        # The send-time checks read in a transaction of their own, so the database's one
        # writer is held only for the updates.
        with self._db.read() as session:
            for request in group:
                job = {"unsubscribe_url": request.ticket.unsubscribe_url,
                       "category": "marketing"}
                request.wanted = all(check(session, self._keyring, job, now)
                                     for check in self._checks)
        with self._db.write() as session:
            if not self._db.is_sqlite:
                # The commit returns without waiting for the WAL flush: the time between
                # the row being durable and the final dot is the window (ehrlich.mail.bulk).
                session.execute(_FAST_COMMIT)
            self._apply(session, [r for q in group for r in q.settled], now)
            for request in group:
                session.connection().execute(
                    update(_SENDS).where(_row(self._campaign_id, request.ticket),
                                         _SENDS.c.state.in_(_OPEN))
                    .values(state="handed" if request.wanted else "skipped", updated_at=now,
                            consent_event_id=request.ticket.consent_event_id,
                            last_reply=None if request.wanted else "consent withdrawn"))

    def settle(self, results: Sequence[Result]) -> None:
        with self._db.write() as session:
            self._apply(session, results, self._clock())
