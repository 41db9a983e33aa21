"""Consent jobs: unconfirmed signups expire once a day (`confirmation_days`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from huey import crontab

from ehrlich.consent.double_opt_in import expire_unconfirmed
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

EXPIRE_TASK = "consent.expire_unconfirmed"
log = logging.getLogger("ehrlich.consent")


def register(instance: Instance) -> None:
    @instance.jobs.periodic(EXPIRE_TASK, crontab(minute="17", hour="3"))
    def expire() -> None:
        outcome = expire_unconfirmed(instance.db, instance.audit, instance.subjects,
                                     days=instance.settings.confirmation_days, now=utcnow())
        log.info("expired %d unconfirmed requests, erased %d people", outcome.expired,
                 outcome.erased)
