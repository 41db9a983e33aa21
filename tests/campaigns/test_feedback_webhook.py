"""Bounces and complaints through the provider webhook, over HTTP: a campaign goes out over
real SMTP (aiosmtpd), the provider's signed notifications name the captured Message-IDs,
and the addresses are suppressed; unsigned, stale or wrongly signed ones change nothing.
A campaign whose complaints pass 0.3 % of its delivered mail pauses itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.app import create_app
from ehrlich.campaigns.models import CampaignFeedback
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign
from ehrlich.consent.ledger.suppression import is_suppressed, suppressions_of
from ehrlich.domains import build_instance
from ehrlich.instance.service import Instance
from tests.campaigns.conftest import WEBHOOK_KEY
from tests.campaigns.people import address, draft, people
from tests.conftest import NOW
from tests.mail.smtp_server import Handler, SmtpServer

URL = "/webhooks/campaigns/feedback"


def _send(instance: Instance, campaign_id: str) -> None:
    instance.service(CampaignsService).act(instance.db, campaign_id, "send", actor="test",
                                           now=NOW)
    run_campaign(instance, campaign_id)


def _message_ids(smtp: SmtpServer) -> dict[str, str]:
    """Recipient address → the Message-ID its captured mail carried."""
    return {r.rcpt_tos[0]: str(message_from_bytes(r.data, policy=policy.default)["Message-ID"])
            for r in smtp.received}


def _signed(body: bytes, *, key: bytes = WEBHOOK_KEY, stamp: int | None = None,
            webhook_id: str = "msg_2Lf8abc") -> dict[str, str]:
    """Standard Webhooks headers, computed with the standard library alone."""
    stamp = int(time.time()) if stamp is None else stamp
    mac = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": webhook_id, "webhook-timestamp": str(stamp),
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
            "content-type": "application/json"}


def _post(client: TestClient, payload: dict[str, Any], **signing: Any) -> Any:
    body = json.dumps(payload).encode()
    return client.post(URL, content=body, headers=_signed(body, **signing))


def _suppressed(instance: Instance, email: str, purpose: str = "newsletter") -> bool:
    with instance.db.read() as session:
        return is_suppressed(session, instance.subjects.email_index(email), purpose, exact=True)


def _feedback_rows(instance: Instance) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(CampaignFeedback))
                   .scalar_one())


def test_bounce_and_complaint_by_webhook_suppress_the_address(
        instance: Instance, client: TestClient, smtp: SmtpServer) -> None:
    people(instance, 4)
    campaign = draft(instance)
    _send(instance, campaign)
    ids = _message_ids(smtp)
    hard = _post(client, {"type": "bounce", "bounce_type": "hard", "status": "5.1.1",
                          "message_id": ids[address(0)], "address": address(0)})
    assert hard.status_code == 200, hard.text
    assert hard.json() == {"outcome": "recorded", "campaign_paused": False}
    complaint = _post(client, {"type": "complaint", "address": address(1),
                               "message_id": ids[address(1)].strip("<>")})  # as SES sends it
    assert complaint.json()["outcome"] == "recorded"
    soft = _post(client, {"type": "bounce", "bounce_type": "soft", "status": "4.2.2",
                          "message_id": ids[address(2)]})
    assert soft.json()["outcome"] == "recorded"
    assert _suppressed(instance, address(0))
    assert _suppressed(instance, address(1))
    assert not _suppressed(instance, address(2))
    assert not _suppressed(instance, address(3))
    with instance.db.read() as session:
        reasons = {s.reason for s in suppressions_of(
            session, instance.subjects.email_index(address(0)))}
    assert reasons == {"bounced"}
    again = _post(client, {"type": "complaint", "message_id": ids[address(1)]},
                  webhook_id="msg_retry")
    assert again.json()["outcome"] == "repeated"
    report = instance.service(CampaignsService).report(instance.db, campaign)
    assert (report.sent, report.delivered, report.bounced, report.complained,
            report.deferred) == (4, 3, 1, 1, 1)
    assert report.complaint_rate == pytest.approx(1 / 3)
    # The next campaign leaves the suppressed addresses out.
    smtp.received.clear()
    _send(instance, draft(instance, name="Winter"))
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [address(2), address(3)]


def test_a_report_naming_another_address_or_no_campaign_mail_changes_nothing(
        instance: Instance, client: TestClient, smtp: SmtpServer) -> None:
    people(instance, 2)
    _send(instance, draft(instance))
    ids = _message_ids(smtp)
    other = _post(client, {"type": "complaint", "message_id": ids[address(0)],
                           "address": address(1)})
    unknown = _post(client, {"type": "complaint", "message_id": "<nothing@shop.example>"})
    assert other.json()["outcome"] == unknown.json()["outcome"] == "unmatched"
    assert _feedback_rows(instance) == 0
    assert not _suppressed(instance, address(0))
    assert not _suppressed(instance, address(1))


@pytest.mark.parametrize("case", ["unsigned", "stale", "future", "wrong key", "body changed",
                                  "no secret"])
def test_unsigned_stale_or_badly_signed_notifications_get_401_and_change_nothing(
        instance: Instance, client: TestClient, smtp: SmtpServer, case: str) -> None:
    people(instance, 1)
    _send(instance, draft(instance))
    payload = {"type": "complaint", "message_id": _message_ids(smtp)[address(0)]}
    body = json.dumps(payload).encode()
    headers = _signed(body)
    if case == "unsigned":
        headers = {"content-type": "application/json"}
    elif case == "stale":
        headers = _signed(body, stamp=int(time.time()) - 6 * 60)
    elif case == "future":
        headers = _signed(body, stamp=int(time.time()) + 6 * 60)
    elif case == "wrong key":
        headers = _signed(body, key=b"k" * 32)
    elif case == "body changed":
        body = body.replace(b"complaint", b"bounce\", \"bounce_type\": \"hard")
    if case == "no secret":  # the same instance, configured without a secret
        unset = build_instance(instance.settings.model_copy(
            update={"campaign_webhook_secret": None}), instance.db, instance.keyring)
        with TestClient(create_app(unset), raise_server_exceptions=False) as bare:
            response = bare.post(URL, content=body, headers=headers)
    else:
        response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _feedback_rows(instance) == 0
    assert not _suppressed(instance, address(0))


def test_a_signed_but_malformed_payload_names_the_field(instance: Instance,
                                                        client: TestClient) -> None:
    bad = _post(client, {"type": "bounce", "message_id": "<x@shop.example>"})
    assert bad.status_code == 422
    assert "bounce_type" in bad.text
    worse = _post(client, {"type": "kudos", "message_id": "<x@shop.example>"})
    assert worse.status_code == 422
    assert "type" in worse.text
    not_an_id = _post(client, {"type": "complaint", "message_id": "nothing here"})
    assert not_an_id.status_code == 422
    assert "message_id" in not_an_id.text


# -- pausing ----------------------------------------------------------------------------------

class _Deferring(Handler):
    """Accepts everyone but `person0`, whom it asks to try later: the campaign stays
    `sending`, as a big one does while complaints come in."""

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
            self, server: Any, session: Any, envelope: Any, address: str,
            rcpt_options: Any) -> str:
        if address.startswith("person0@"):
            return "451 4.7.1 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def deferring_smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.handler = _Deferring()
    server.start()
    yield server
    server.stop()


def test_a_campaign_with_half_a_percent_complaints_pauses_itself(
        instance: Instance, client: TestClient, deferring_smtp: SmtpServer) -> None:
    people(instance, 1001)
    campaigns = instance.service(CampaignsService)
    campaign = draft(instance)
    _send(instance, campaign)
    assert campaigns.get(instance.db, campaign).status == "sending"  # person0 deferred
    ids = list(_message_ids(deferring_smtp).values())
    assert len(ids) == 1000
    for n, message_id in enumerate(ids[:3], start=1):  # 0.1 %, 0.2 %, 0.3 %: not above
        answer = _post(client, {"type": "complaint", "message_id": message_id},
                       webhook_id=f"msg_{n}")
        assert answer.json() == {"outcome": "recorded", "campaign_paused": False}
    assert campaigns.get(instance.db, campaign).status == "sending"
    fourth = _post(client, {"type": "complaint", "message_id": ids[3]}, webhook_id="msg_4")
    assert fourth.json() == {"outcome": "recorded", "campaign_paused": True}
    fifth = _post(client, {"type": "complaint", "message_id": ids[4]}, webhook_id="msg_5")
    assert fifth.json() == {"outcome": "recorded", "campaign_paused": False}  # already
    view = campaigns.get(instance.db, campaign)
    assert view.status == "paused"
    assert view.paused_reason == "complaints:4:1000"
    report = campaigns.report(instance.db, campaign)
    assert report.complained == 5
    assert report.complaint_rate == pytest.approx(0.005)
    assert run_campaign(instance, campaign) is None  # the worker leaves it alone
    resumed = campaigns.act(instance.db, campaign, "resume", actor="test", now=NOW)
    assert resumed.paused_reason is None
