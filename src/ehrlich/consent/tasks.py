"""Periodic consent jobs: expiring unconfirmed double opt-in requests, hourly; reading
unsubscribe requests sent by mail, every five minutes while that mailbox is configured."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from ehrlich.consent.signup.double_opt_in import erase_expired_signups
from ehrlich.consent.signup.expiry import expire_unconfirmed
from ehrlich.consent.unsubscribe.mail_requests import read_unsubscribe_mailbox
from ehrlich.jobs import crontab
from ehrlich.mail.errors import MailboxUnavailable
from ehrlich.mail.imap import ImapConfig
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

EXPIRE_TASK = "consent.expire_unconfirmed"
MAILBOX_TASK = "consent.read_unsubscribe_mailbox"
log = logging.getLogger("ehrlich.consent")


def register(instance: Instance) -> None:
    @instance.jobs.periodic(EXPIRE_TASK, crontab(minute="17"))
    def expire() -> int:
        now = utcnow()
        expired = expire_unconfirmed(
            instance.db, instance.audit,
            older_than=timedelta(days=instance.settings.consent_confirm_days), now=now)
        erase_expired_signups(instance.db, instance.subjects, now=now)
        return expired

    mailbox = ImapConfig.from_settings(instance.settings)
    if mailbox is None:
        return

    @instance.jobs.periodic(MAILBOX_TASK, crontab(minute="*/5"))
    def read_mailbox() -> int:
        try:
            run = read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring,
                                           mailbox, now=utcnow())
        except MailboxUnavailable as exc:  # tried again in five minutes
            log.warning("unsubscribe requests not read: %s", exc.message)
            return 0
        if run.withdrawn or run.left_unread:
            log.info("unsubscribe mailbox: %d withdrawn, %d left unread for a person",
                     run.withdrawn, run.left_unread)
        return run.withdrawn
