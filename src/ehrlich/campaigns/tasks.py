"""The campaign jobs: `campaigns.run` sends (or resumes) one campaign from its send
table; `campaigns.start_due`, every minute, starts scheduled campaigns whose time has
come and resumes sending ones that no live worker holds (after a crash, or with
deferred messages due). The job carries only the campaign's id, so any queue will do.
`campaigns.read_bounce_mailbox`, every five minutes while the bounce mailbox is
configured, records the DSNs and ARF complaints found there."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ehrlich.campaigns.schemas import RunOutcome
from ehrlich.campaigns.sending import CampaignRunner
from ehrlich.campaigns.service import RUN_TASK, CampaignsService
from ehrlich.jobs import crontab
from ehrlich.mail.errors import MailboxUnavailable
from ehrlich.mail.imap import ImapConfig
from ehrlich.storage.base import utcnow

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

DUE_TASK = "campaigns.start_due"
BOUNCE_TASK = "campaigns.read_bounce_mailbox"
log = logging.getLogger("ehrlich.campaigns")


def runner_for(instance: Instance, **options: object) -> CampaignRunner:
    options.setdefault("send_checks", instance.contributions.send_checks)
    return CampaignRunner(instance.settings, instance.db, instance.keyring,
                          instance.subjects, **options)  # type: ignore[arg-type]


def run_campaign(instance: Instance, campaign_id: str) -> RunOutcome | None:
    outcome = runner_for(instance).run(campaign_id)
    if outcome is not None:
        log.info("campaign %s: %s, %d sent, %d deferred, %d bounced, %d skipped, %d waiting",
                 campaign_id, outcome.status, outcome.sent, outcome.deferred, outcome.bounced,
                 outcome.skipped, outcome.waiting)
    return outcome


def register(instance: Instance) -> None:
    @instance.jobs.task(RUN_TASK)
    def run(campaign_id: str) -> None:
        run_campaign(instance, campaign_id)

    @instance.jobs.periodic(DUE_TASK, crontab(minute="*"))
    def start_due() -> int:
        return instance.service(CampaignsService).start_due(instance.db, now=utcnow())

    mailbox = ImapConfig.from_settings(instance.settings, "bounce")
    if mailbox is None:
        return

    @instance.jobs.periodic(BOUNCE_TASK, crontab(minute="*/5"))
    def read_bounces() -> int:
        try:
            run = instance.service(CampaignsService).read_bounce_mailbox(
                instance.db, now=utcnow(), config=mailbox)
        except MailboxUnavailable as exc:  # tried again in five minutes
            log.warning("bounce mailbox not read: %s", exc.message)
            return 0
        if run.handled or run.left_unread:
            log.info("bounce mailbox: %d reports recorded, %d left unread for a person",
                     run.handled, run.left_unread)
        return run.handled
