"""A campaign over real SMTP (aiosmtpd on loopback): exactly the consented audience,
once each, with the one-click headers in the raw bytes; a withdrawal mid-send holds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.campaigns.models import CampaignSend
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign, runner_for
from ehrlich.consent.unsubscribe.links import read_unsubscribe_token
from ehrlich.crypto import Keyring
from ehrlich.instance.service import Instance
from tests.campaigns.people import address, draft, people
from tests.conftest import NOW
from tests.mail.raw import raw_header
from tests.mail.smtp_server import SmtpServer

N = 500


def _start(instance: Instance, campaign_id: str) -> None:
    instance.service(CampaignsService).act(instance.db, campaign_id, "send", actor="test",
                                           now=NOW)


def test_campaign_reaches_exactly_the_consented_once_each(instance: Instance,
                                                         smtp: SmtpServer) -> None:
    consented = {i for i in range(N) if i % 5 != 0}
    people(instance, N, consented=consented)
    campaign = draft(instance)
    _start(instance, campaign)
    outcome = run_campaign(instance, campaign)
    assert outcome is not None
    assert outcome.status == "sent"
    assert outcome.sent == len(consented), outcome
    got = Counter(r.rcpt_tos[0] for r in smtp.received)
    assert set(got) == {address(i) for i in consented}
    assert set(got.values()) == {1}
    ids = Counter(message_from_bytes(r.data, policy=policy.default)["Message-ID"]
                  for r in smtp.received)
    assert len(ids) == len(consented)
    assert set(ids.values()) == {1}
    report = instance.service(CampaignsService).report(instance.db, campaign)
    assert (report.sent, report.queued, report.deferred) == (len(consented), 0, 0)
    assert run_campaign(instance, campaign) is None  # finished: nothing sent again
    assert len(smtp.received) == len(consented)


def test_each_message_carries_one_click_headers_and_the_post_withdraws(
        instance: Instance, client: TestClient, smtp: SmtpServer) -> None:
    ids = people(instance, 3)
    campaign = draft(instance)
    _start(instance, campaign)
    run_campaign(instance, campaign)
    assert len(smtp.received) == 3
    for received in smtp.received:
        header = raw_header(received.data, "List-Unsubscribe")
        assert re.match(rb"List-Unsubscribe: <https://shop\.example/unsubscribe/[^>]+>",
                        header), header
        assert raw_header(received.data, "List-Unsubscribe-Post") == (
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        raw_header(received.data, "Message-ID")
    first = message_from_bytes(smtp.received[0].data, policy=policy.default)
    url = re.match(r"<([^>]+)>", str(first["List-Unsubscribe"])).group(1)  # type: ignore
    body = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert url in body  # the visible link
    assert "Hello Person" in body
    response = client.post(urlsplit(url).path, data={"List-Unsubscribe": "One-Click"},
                           follow_redirects=False)
    assert response.status_code == 200
    second = draft(instance)
    _start(instance, second)
    run_campaign(instance, second)
    who = str(first["To"])
    later = [r.rcpt_tos[0] for r in smtp.received[3:]]
    assert len(later) == len(ids) - 1
    assert who not in later


def test_a_send_check_another_domain_registers_still_stops_campaign_mail(
        instance: Instance, smtp: SmtpServer) -> None:
    """The audience query answers the consent domain's own check; a check any other domain
    registers (a do-not-contact list, say) still decides for each campaign mail."""
    ids = people(instance, 6)
    blocked = {sid for sid, i in ids.items() if i in (1, 4)}
    seen: list[str] = []

    def do_not_contact(session: Session, keyring: Keyring, job: Mapping[str, Any],
                       now: datetime) -> bool:
        seen.append(job["category"])
        token = urlsplit(job["unsubscribe_url"]).path.rsplit("/", 1)[1]
        subject_id = read_unsubscribe_token(keyring, token, now=now)[0]
        # The check reads in the hand-over's own transaction: the row is not yet handed.
        assert session.execute(select(CampaignSend.state).where(
            CampaignSend.campaign_id == campaign,
            CampaignSend.subject_id == subject_id)).scalar_one() == "queued"
        return subject_id not in blocked

    campaign = draft(instance)
    _start(instance, campaign)
    runner = runner_for(instance, send_checks=(*instance.contributions.send_checks,
                                               do_not_contact))
    outcome = runner.run(campaign)
    assert outcome is not None
    assert outcome.sent == 4, outcome
    assert {r.rcpt_tos[0] for r in smtp.received} == {address(i) for i in (0, 2, 3, 5)}
    assert set(seen) == {"marketing"}
