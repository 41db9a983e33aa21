"""Periodic consent jobs: expiring unconfirmed double opt-in requests, hourly."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from huey import crontab

from ehrlich.consent.double_opt_in import erase_expired_signups
from ehrlich.consent.expiry import expire_unconfirmed
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

EXPIRE_TASK = "consent.expire_unconfirmed"


def register(instance: Instance) -> None:
    @instance.jobs.periodic(EXPIRE_TASK, crontab(minute="17"))
    def expire() -> int:
        now = utcnow()
        expired = expire_unconfirmed(
            instance.db, instance.audit,
            older_than=timedelta(days=instance.settings.consent_confirm_days), now=now)
        erase_expired_signups(instance.db, instance.subjects, now=now)
        return expired
