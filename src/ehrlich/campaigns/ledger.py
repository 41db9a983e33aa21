"""The send table as the bulk sender's `Ledger`: one commit around each SMTP transaction.

`hand_over` runs the registered send-time checks (the consent domain's: is the
consent behind this mail still active?) and then marks the row `handed`, just
before the final dot, so a withdrawal committed a moment earlier still stops
the mail. `settle` records answers: `sent`; `deferred`
with the next try after a doubling delay; `bounced` for a 5xx or when the
tries are used up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
        now = self._clock()
        job = {"unsubscribe_url": ticket.unsubscribe_url, "category": "marketing"}
        # The send-time checks read in a transaction of their own, so the database's one
        # writer is held only for the two updates; a withdrawal committed in the
        # millisecond between the two is caught by nothing but the next campaign.
        with self._db.read() as session:
            wanted = all(check(session, self._keyring, job, now) for check in self._checks)
        with self._db.write() as session:
            if not self._db.is_sqlite:
                # The commit returns without waiting for the WAL flush: the time between
                # the row being durable and the final dot is the window (ehrlich.mail.bulk).
                session.execute(_FAST_COMMIT)
            self._apply(session, settled, now)
            session.connection().execute(
                update(_SENDS).where(_row(self._campaign_id, ticket),
                                     _SENDS.c.state.in_(_OPEN))
                .values(state="handed" if wanted else "skipped", updated_at=now,
                        consent_event_id=ticket.consent_event_id,
                        last_reply=None if wanted else "consent withdrawn"))
        return wanted

    def settle(self, results: Sequence[Result]) -> None:
        with self._db.write() as session:
            self._apply(session, results, self._clock())
