"""Changes while a campaign is being sent: a withdrawal stops mail to that person at
once; pause holds it, resume carries on, and nobody gets a message twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign
from ehrlich.instance.service import Instance
from tests.campaigns.people import address, draft, people
from tests.conftest import NOW
from tests.factories import record
from tests.mail.smtp_server import Handler, SmtpServer

N = 300


class CallingHandler(Handler):
    """Accepts as usual, and calls `on_message(count)` after each message it took."""

    def __init__(self, on_message: Any) -> None:
        super().__init__()
        self.on_message = on_message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any  # noqa: N802
                          ) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        self.on_message(len(self.received))
        return reply


def _handle_with(smtp: SmtpServer, handler: Handler) -> None:
    smtp.stop()
    smtp.handler = handler
    smtp.start()


def test_withdrawal_posted_mid_send_stops_mail_to_that_person(instance: Instance,
                                                              smtp: SmtpServer) -> None:
    ids = people(instance, N)
    last = sorted(ids)[-40:]  # sent last: subject id order
    campaign = draft(instance)

    def withdraw(count: int) -> None:
        if count == 1:
            for subject_id in last:
                record(instance, subject_id, "withdrawn")

    _handle_with(smtp, CallingHandler(withdraw))
    instance.service(CampaignsService).act(instance.db, campaign, "send", actor="test",
                                           now=NOW)
    outcome = run_campaign(instance, campaign)
    assert outcome is not None
    assert outcome.status == "sent"
    got = Counter(r.rcpt_tos[0] for r in smtp.received)
    assert set(got.values()) == {1}
    assert set(got) == {address(ids[s]) for s in ids if s not in last}
    report = instance.service(CampaignsService).report(instance.db, campaign)
    assert report.skipped == len(last)
    assert report.sent == N - len(last)


def test_pause_holds_and_resume_sends_the_rest_once(instance: Instance,
                                                    smtp: SmtpServer) -> None:
    ids = people(instance, N)
    campaigns = instance.service(CampaignsService)
    campaign = draft(instance)

    def pause(count: int) -> None:
        if count == 20:
            campaigns.act(instance.db, campaign, "pause", actor="test", now=NOW)

    _handle_with(smtp, CallingHandler(pause))
    campaigns.act(instance.db, campaign, "send", actor="test", now=NOW)
    outcome = run_campaign(instance, campaign)
    assert outcome is not None
    assert outcome.status == "paused"
    held = len(smtp.received)
    assert 20 <= held < N
    assert run_campaign(instance, campaign) is None  # paused: nothing goes out
    campaigns.act(instance.db, campaign, "resume", actor="test", now=NOW)
    outcome = run_campaign(instance, campaign)
    assert outcome is not None
    assert outcome.status == "sent"
    got = Counter(r.rcpt_tos[0] for r in smtp.received)
    assert set(got) == {address(i) for i in ids.values()}
    assert set(got.values()) == {1}


def test_cancel_ends_it_for_good(instance: Instance, smtp: SmtpServer) -> None:
    people(instance, 50)
    campaigns = instance.service(CampaignsService)
    campaign = draft(instance)
    campaigns.act(instance.db, campaign, "send", actor="test", now=NOW)
    campaigns.act(instance.db, campaign, "cancel", actor="test", now=NOW)
    assert run_campaign(instance, campaign) is None
    assert smtp.received == []
    assert campaigns.get(instance.db, campaign).status == "cancelled"
