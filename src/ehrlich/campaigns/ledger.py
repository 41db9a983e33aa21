"""The send table as the bulk sender's `Ledger`: one commit around each SMTP transaction.

`hand_over` checks once more that the person is in the audience (the consent
domain's `still_in_audience_in`: active consent for the purpose and channel, not
suppressed, not erased) and then marks the row `handed`, with the consent event
that allows it, just before the final dot, so a withdrawal committed a moment
earlier still stops the mail. The check is one query for all hand-overs of a
group, read in the transaction that records them (one transaction per group, and
on SQLite nothing commits between check and record); send-time checks that other
domains register (`Registry.add_send_check`) run per message after it, in the
same transaction, as they do for every queued mail. Hand-overs from several
connections are committed together (group commit: the connection that finds no
commit under way leads it, after waiting up to `GATHER` for the other
connections; the others wait for it), so the database's one writer is not taken
once per message. `settle` records answers: `sent`; `deferred` with
the next try after a doubling delay; `bounced` for a 5xx or when the tries are
used up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, and_, bindparam, or_, text, update
from sqlalchemy.orm import Session

from ehrlich.campaigns.models import CampaignSend
from ehrlich.consent.ledger.audience import still_in_audience_in
from ehrlich.crypto import Keyring
from ehrlich.mail.bulk import Result
from ehrlich.mail.interfaces import SendCheck
from ehrlich.storage.database import Database

_SENDS = cast(Table, CampaignSend.__table__)
_OPEN = ("queued", "deferred")
GATHER = 0.001
"""Seconds a group's leader waits at most for the other connections' hand-overs."""
_FAST_COMMIT = text("SET LOCAL synchronous_commit = off")
# Built once, executed for many rows at a time.
_SENT = (update(_SENDS).where(_SENDS.c.campaign_id == bindparam("cid"),
                              _SENDS.c.subject_id == bindparam("sid"),
                              _SENDS.c.state == "handed")
         .values(state="sent", updated_at=bindparam("at"), last_reply="250"))
_HANDED = (update(_SENDS).where(_SENDS.c.campaign_id == bindparam("cid"),
                                _SENDS.c.subject_id == bindparam("sid"),
                                or_(*(_SENDS.c.state == state for state in _OPEN)))
           .values(state=bindparam("to_state"), updated_at=bindparam("at"),
                   consent_event_id=bindparam("event"), last_reply=bindparam("why")))


@dataclass(frozen=True)
class Ticket:
    """What the bulk sender carries for each message back to the ledger: no address."""

    subject_id: str
    consent_event_id: str | None
    attempts: int
    unsubscribe_url: str = ""
    """For registered send-time checks, which find the consent behind a mail by its link."""


@dataclass
class _HandOver:
    ticket: Ticket
    settled: tuple[Result, ...]
    wanted: bool = False
    event: str | None = None
    error: Exception | None = None
    finished: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def _row(campaign_id: str, ticket: Ticket):  # type: ignore[no-untyped-def]
    return and_(_SENDS.c.campaign_id == campaign_id, _SENDS.c.subject_id == ticket.subject_id)


class CampaignLedger:
    def __init__(self, db: Database, campaign_id: str, *, purpose: str, channel: str,
                 clock: Callable[[], datetime], retry_delay: int, retries: int,
                 keyring: Keyring | None = None, send_checks: Sequence[SendCheck] = (),
                 connections: int = 1, gather: float = GATHER) -> None:
        """`send_checks`: the registered checks the audience query does not already
        answer (it answers the consent domain's own); `connections`: how many hand
        over (a group's leader waits up to `gather` seconds for all of them)."""
        self._db = db
        self._keyring = keyring
        self._checks = tuple(send_checks)
        assert keyring is not None or not self._checks
        self._campaign_id = campaign_id
        self._purpose, self._channel = purpose, channel
        self._clock = clock
        self._retry_delay = retry_delay
        self._retries = retries
        self._group = threading.Lock()
        self._arrived = threading.Condition(self._group)
        self._connections, self._gather = connections, gather
        self._waiting: list[_HandOver] = []
        self._committing = False
        self.counts = {"sent": 0, "deferred": 0, "bounced": 0, "skipped": 0, "in-doubt": 0}

    def _apply(self, connection: Connection, results: Sequence[Result], now: datetime
               ) -> None:
        sent = [{"cid": self._campaign_id, "sid": r.ticket.subject_id, "at": now}
                for r in results if r.outcome == "sent"]
        if sent:
            connection.execute(_SENT, sent)
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
            connection.execute(
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
            self._arrived.notify()
        while True:
            if lead:
                self._lead()
            request.done.wait()
            request.done.clear()
            if request.finished:
                break
            lead = True  # handed the lead
        if request.error is not None:
            raise request.error
        return request.wanted

    def _lead(self) -> None:
        # Before taking the group, wait a moment for the other connections' hand-overs
        # (at most `gather`, less once all are in): they join this commit instead of
        # waiting for the next one. Fewer, larger commits cost less of the one process
        # the whole campaign runs in; the wait comes before the commit, so the window
        # (commit to final dot) does not grow.
        with self._group:
            self._arrived.wait_for(lambda: len(self._waiting) >= self._connections,
                                   timeout=self._gather)
            group, self._waiting = self._waiting, []
        try:
            self._commit_group(group)
        except Exception as exc:
            for request in group:
                request.error = exc
        with self._group:
            if self._waiting:
                self._waiting[0].done.set()  # the next group's leader
            else:
                self._committing = False
        for request in group:
            request.finished = True
            request.done.set()

    def _commit_group(self, group: list[_HandOver]) -> None:
        now = self._clock()
        # A few Core statements many times a second: no Session around them.
        with self._db.write_statements() as connection:
            if not self._db.is_sqlite:
                # The commit returns without waiting for the WAL flush: the time between
                # the row being durable and the final dot is the window (ehrlich.mail.bulk).
                connection.execute(_FAST_COMMIT)
            # The audience check reads in the transaction that records the hand-overs: on
            # SQLite nothing can commit between the two; one transaction, not two.
            allowed = still_in_audience_in(connection, self._purpose, self._channel,
                                           [request.ticket.subject_id for request in group])
            for request in group:
                request.wanted = request.ticket.subject_id in allowed
                request.event = allowed.get(request.ticket.subject_id,
                                            request.ticket.consent_event_id)
            if self._checks and any(request.wanted for request in group):
                self._run_checks(connection, group, now)
            self._apply(connection, [r for q in group for r in q.settled], now)
            connection.execute(_HANDED, [
                {"cid": self._campaign_id, "sid": request.ticket.subject_id, "at": now,
                 "to_state": "handed" if request.wanted else "skipped", "event": request.event,
                 "why": None if request.wanted else "no longer wanted at send time"}
                for request in group])

    def _run_checks(self, connection: Connection, group: list[_HandOver], now: datetime
                    ) -> None:
        """The registered send checks, in a Session joined to the hand-over's transaction
        (they take a Session, as for every queued mail)."""
        assert self._keyring is not None
        with Session(bind=connection) as session:
            for request in group:
                job = {"unsubscribe_url": request.ticket.unsubscribe_url,
                       "category": "marketing"}
                request.wanted = request.wanted and all(
                    check(session, self._keyring, job, now) for check in self._checks)

    def settle(self, results: Sequence[Result]) -> None:
        with self._db.write_statements() as connection:
            self._apply(connection, results, self._clock())
