"""The reports page (charts drawn on the server, the numbers as a table, the pause's reason
on the campaign's page) and the purpose: a select of the notice's consent purposes by
email, refused alike by the form, the API and the command when unknown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from ehrlich.campaigns.feedback import Feedback
from ehrlich.campaigns.models import Campaign
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign
from ehrlich.cli.main import app
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    Staff,
    clock,
    console,
    instance,
    mail,
    open_session,
)
from tests.campaigns.conftest import SENDER
from tests.campaigns.people import draft, people
from tests.campaigns.test_console import _csrf, _fields, _staff
from tests.conftest import NOW
from tests.mail.smtp_server import SmtpServer

Maker = Callable[..., Staff]
PATH = "/admin/campaigns"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_port: int) -> Settings:
    """The console's HTTPS test server, and SMTP on loopback for the campaigns."""
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://testserver",
                    captcha_base_number=200, smtp_host="127.0.0.1", smtp_port=smtp_port,
                    smtp_tls="none", smtp_from=SENDER, campaign_rate=0,
                    campaign_domain_rate=0)


def _sent(instance: Instance, smtp: SmtpServer,  # noqa: F811
          name: str) -> tuple[str, list[str]]:
    """Send a campaign; the Message-IDs its mails carried at the sink."""
    smtp.received.clear()
    campaign = draft(instance, name=name)
    instance.service(CampaignsService).act(instance.db, campaign, "send", actor="test",
                                           now=NOW)
    run_campaign(instance, campaign)
    return campaign, [str(message_from_bytes(r.data, policy=policy.default)["Message-ID"])
                      for r in smtp.received]


def test_the_reports_page_draws_charts_and_gives_the_numbers_as_a_table(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock, smtp: SmtpServer) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    empty = console.get(f"{PATH}/reports")
    assert empty.status_code == 200
    assert "<svg" not in empty.text  # nothing sent: no chart, the empty state
    people(instance, 6)
    campaigns = instance.service(CampaignsService)
    first, first_ids = _sent(instance, smtp, "Autumn")
    campaigns.record_feedback(instance.db, Feedback("hard", first_ids[0]), source="webhook",
                              now=NOW)
    campaigns.record_feedback(instance.db, Feedback("complaint", first_ids[1]),
                              source="webhook", now=NOW)
    _sent(instance, smtp, "Winter")  # the two suppressed are left out
    page = console.get(f"{PATH}/reports")
    assert page.status_code == 200
    svgs = re.findall(r'<svg class="chart" id="([a-z-]+)" role="img"', page.text)
    assert svgs == ["delivery-chart", "response-chart"]
    assert "<script" not in page.text
    assert '<title id="delivery-chart-title">Sent, delivered and bounced per campaign' in page.text
    table = page.text[page.text.index('id="campaign-reports"'):]
    rows = re.findall(r"<tr><th scope=\"row\"><a href=\"/admin/campaigns/[^\"]+\">(\w+)</a>"
                      r"</th>.*?((?:<td class=\"num\">[^<]*</td>\s*)+)</tr>", table, re.S)
    numbers = {name: re.findall(r'<td class="num">([^<]*)</td>', cells) for name, cells in rows}
    # sent, delivered, deferred, bounced, complained, unsubscribed, complaint rate
    assert numbers["Autumn"] == ["6", "5", "0", "1", "1", "0", "20.00 %"]
    assert numbers["Winter"] == ["4", "4", "0", "0", "0", "0", "0.00 %"]
    german = console.get(f"{PATH}/reports", headers={"Accept-Language": "de"})
    assert "Kampagnenberichte" in german.text
    assert campaigns.get(instance.db, first).status == "sent"


def test_a_paused_campaign_says_why_on_its_page(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    campaign = draft(instance)
    campaigns = instance.service(CampaignsService)
    campaigns.act(instance.db, campaign, "schedule", actor="test", now=NOW,
                  at=NOW.replace(year=NOW.year + 1))
    with instance.db.write() as session:  # as the recorder leaves it (test_feedback_webhook)
        session.execute(update(Campaign).where(Campaign.id == campaign).values(
            status="paused", paused_reason="complaints:5:1000"))
    page = console.get(f"{PATH}/{campaign}")
    reason = page.text[page.text.index('id="paused-reason"'):]
    assert "Paused by ehrlich: too many complaints." in reason
    assert "5 complaints of 1000 mails delivered (0.50 %) are above the limit of 0.3 %" in reason


def test_the_purpose_is_a_select_of_the_notices_consent_purposes_by_email(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    form = console.get(f"{PATH}/new").text
    select = form[form.index('<select id="purpose"'):form.index("</select>")]
    assert re.findall(r'<option value="([^"]+)"', select) == ["newsletter"]  # not sms, not
    # the purposes on another basis (orders, bookkeeping)
    bad = console.post(PATH, data={"csrf": _csrf(console, f"{PATH}/new"),
                                   **_fields(purpose="repair_sms")})
    assert bad.status_code == 422
    error = re.search(r'<p class="field-error" id="purpose-error">([^<]+)</p>', bad.text)
    assert error is not None
    assert "is not a consent purpose by email in the published notice" in error.group(1)
    assert 'aria-invalid="true"' in bad.text[bad.text.index('<select id="purpose"'):]
    assert instance.service(CampaignsService).recent(instance.db) == []


def test_the_api_and_the_command_refuse_an_unknown_purpose_alike(
        instance: Instance, client: TestClient, auth: Any,  # noqa: F811
        tmp_path: Path) -> None:
    body = {"name": "Spring", "purpose": "nonsense", "subject": "Hi",
            "text_body": "Hi {{ name }}"}
    refused = client.post("/api/v1/campaigns", json=body, headers=auth("campaigns:write"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "purpose"
    assert "choose one of: newsletter" in refused.json()["errors"][0]["reason"]
    assert client.post("/api/v1/campaigns", json=body,
                       headers=auth("subjects:read")).status_code == 403
    made = client.post("/api/v1/campaigns", json=body | {"purpose": "newsletter"},
                       headers=auth("campaigns:write"))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "draft"
    text = tmp_path / "spring.txt"
    text.write_text("Hi {{ name }}\n", encoding="utf-8")
    result = CliRunner().invoke(app, [
        "--data-dir", str(instance.settings.data_dir), "campaign", "create", "--name", "x",
        "--purpose", "nonsense", "--subject", "Hi", "--text", str(text)])
    assert isinstance(result.exception, InvalidInput)
    assert result.exception.problems[0].field == "purpose"
    assert result.exception.message == refused.json()["detail"]


def _signed_post(client: TestClient, secret: str, payload: bytes) -> int:
    """A Standard Webhooks notification, signed with the standard library alone, at the
    console's clock (the test's fixed time)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    stamp = int(NOW.timestamp())
    mac = hmac.new(key, f"msg_1.{stamp}.".encode() + payload, hashlib.sha256).digest()
    return client.post("/webhooks/campaigns/feedback", content=payload, headers={
        "webhook-id": "msg_1", "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode()}).status_code


def test_a_webhook_secret_made_in_the_console_is_shown_once_and_verifies(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    payload = b'{"type": "complaint", "message_id": "<nobody@shop.example>"}'
    before = console.get(f"{PATH}/reports")
    assert "none yet: the webhook refuses every notification" in before.text
    assert _signed_post(console, "whsec_" + "A" * 44, payload) == 401
    made = console.post(f"{PATH}/webhook-secret",
                        data={"csrf": _csrf(console, f"{PATH}/reports")})
    assert made.status_code == 200
    first = re.search(r'id="new-webhook-secret">(whsec_[A-Za-z0-9+/=]+)<', made.text)
    assert first is not None
    assert _signed_post(console, first.group(1), payload) == 200
    assert first.group(1) not in console.get(f"{PATH}/reports").text  # shown once
    again = console.post(f"{PATH}/webhook-secret",
                         data={"csrf": _csrf(console, f"{PATH}/reports")})
    second = re.search(r'id="new-webhook-secret">(whsec_[A-Za-z0-9+/=]+)<', again.text)
    assert second is not None
    assert second.group(1) != first.group(1)
    assert _signed_post(console, first.group(1), payload) == 401  # replaced
    assert _signed_post(console, second.group(1), payload) == 200
    refused = console.post(f"{PATH}/webhook-secret", data={"csrf": "forged"})
    assert refused.status_code == 403
    current = instance.service(CampaignsService).webhook_generation(instance.db)
    assert current is not None
    assert current.generation == 2
