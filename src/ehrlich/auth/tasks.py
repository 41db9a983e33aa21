"""Periodic staff-access jobs: ended sessions are removed, not only refused; refused
sign-in attempts are audited once per account and window, with their count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.jobs import crontab
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

PURGE_SESSIONS_TASK = "auth.purge_expired_sessions"
REPORT_REFUSALS_TASK = "auth.report_refused_attempts"


def register(instance: Instance) -> None:
    @instance.jobs.periodic(PURGE_SESSIONS_TASK, crontab(minute="*/15"))
    def purge_sessions() -> int:
        with instance.db.write() as session:
            return instance.staff.sessions.purge_expired(session, now=utcnow())

    @instance.jobs.periodic(REPORT_REFUSALS_TASK, crontab(minute="*/5"))
    def report_refusals() -> int:
        return instance.staff.login.report_refusals(instance.db, now=utcnow())
