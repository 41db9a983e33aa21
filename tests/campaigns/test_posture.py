"""The posture check of bounces and complaints: which way they arrive, and a warning when
mail goes out and none is set up; plain IMAP to another host fails."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ehrlich.campaigns.posture import bounces
from ehrlich.instance.service import Instance
from ehrlich.posture.schemas import PostureContext, Status
from tests.conftest import NOW

MAILBOX = {"bounce_imap_host": "imap.example.org", "bounce_imap_username": "news",
           "bounce_imap_password": "secret"}


@pytest.mark.parametrize(("changes", "status", "words"), [
    ({"smtp_host": None, "campaign_webhook_secret": None}, Status.PASS, "no mail is sent"),
    ({"campaign_webhook_secret": None}, Status.WARN, "is not noticed"),
    ({}, Status.PASS, "recorded by the provider's signed webhook"),
    ({"campaign_webhook_secret": None, **MAILBOX}, Status.PASS,
     "recorded from the bounce mailbox news at imap.example.org, folder INBOX"),
    (MAILBOX, Status.PASS, "webhook and from the bounce mailbox news"),
    ({**MAILBOX, "bounce_imap_tls": "none"}, Status.FAIL, "plain IMAP"),
])
def test_the_check_names_the_way_reports_arrive(instance: Instance,
                                                 changes: dict[str, object], status: Status,
                                                 words: str) -> None:
    settings = instance.settings.model_copy(update=changes)
    finding = bounces.run(PostureContext(replace(instance, settings=settings), NOW))
    assert finding.status == status
    assert words in finding.detail.format(**finding.params)
