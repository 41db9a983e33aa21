"""The console says when mail is off and sends a test mail to the signed-in staff member,
through the real SMTP sender (aiosmtpd on loopback): throttled, audited, outcome shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.app import create_app
from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.jobs import store as job_store
from ehrlich.mail.service import SEND_TASK
from ehrlich.settings import Settings
from ehrlich.web.deps import get_now
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    open_session,
)
from tests.factories import Staff
from tests.mail.conftest import SENDER
from tests.mail.smtp_server import SmtpServer


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_port: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://testserver",
                    captcha_base_number=200, smtp_host="127.0.0.1", smtp_port=smtp_port,
                    smtp_tls="none", smtp_from=SENDER)


def signed_in(console: TestClient, make_staff: Callable[..., Staff],  # noqa: F811
              clock: Clock) -> Staff:  # noqa: F811
    owner = make_staff("owner", email="owner@shop.example")
    open_session(console, owner, clock.now)
    return owner


def send_test(console: TestClient) -> tuple[int, str]:  # noqa: F811
    csrf = form_value(console.get("/admin/mail").text, "csrf")
    response = console.post("/admin/mail/test", data={"csrf": csrf})
    return response.status_code, response.text


def mail_test_entries(instance: Instance) -> list[tuple[str, str]]:
    with instance.db.read() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.detail).where(
            AuditEntry.action == "mail.test")).all()
    return [(actor, str(detail)) for actor, detail in rows]


def test_a_test_mail_reaches_the_staff_members_own_address_once_a_minute(
        instance: Instance, console: TestClient, make_staff: Callable[..., Staff],  # noqa: F811
        clock: Clock, smtp: SmtpServer) -> None:  # noqa: F811
    owner = signed_in(console, make_staff, clock)
    smtp.start()
    status, page = send_test(console)
    assert status == 200
    assert "sent" in page
    assert "accepted it" in page
    [got] = smtp.received
    assert got.rcpt_tos == ["owner@shop.example"]
    message = message_from_bytes(got.data, policy=policy.default)
    assert message["To"] == "owner@shop.example"
    assert message["Subject"] == "ehrlich: test mail"

    status, page = send_test(console)  # a second click within the minute
    assert status == 429
    assert "less than a minute ago" in page
    assert len(smtp.received) == 1

    smtp.stop()  # the server goes away: the page says what happened
    clock.advance(minutes=1)
    status, page = send_test(console)
    assert status == 502
    assert "deferred" in page
    assert "not usable" in page
    entries = mail_test_entries(instance)
    assert [actor for actor, _ in entries] == [f"staff:{owner.id}"] * 2
    assert ["sent" in detail for _, detail in entries] == [True, False]
    assert "owner@shop.example" not in str(entries)


def test_with_mail_off_the_dashboard_and_mail_page_say_how_to_turn_it_on(
        instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:  # noqa: F811
    mail_off = replace(instance, settings=instance.settings.model_copy(
        update={"smtp_host": None}))
    app = create_app(mail_off)
    app.dependency_overrides[get_now] = lambda: clock.now
    with TestClient(app, base_url="https://testserver",
                    raise_server_exceptions=False) as off_console:
        _check_mail_off_pages(off_console, instance, make_staff, clock)


def _check_mail_off_pages(console: TestClient, instance: Instance,  # noqa: F811
                          make_staff: Callable[..., Staff], clock: Clock) -> None:  # noqa: F811
    signed_in(console, make_staff, clock)
    dashboard = console.get("/admin").text
    assert 'id="mail-off"' in dashboard
    assert "EHRLICH_SMTP_HOST" in dashboard
    assert "Mail is off.</strong> No SMTP server is configured" in dashboard
    german = console.get("/admin", headers={"Accept-Language": "de"}).text
    assert "Es ist kein SMTP-Server eingerichtet" in german  # not left in English
    assert "smtp_host und smtp_from in ehrlich.toml" in german
    status, page = send_test(console)
    assert status == 409
    assert "mail is off" in page
    assert "EHRLICH_SMTP_HOST" in page
    assert mail_test_entries(instance) == []


def test_with_mail_on_the_dashboard_has_no_warning(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:  # noqa: F811
    signed_in(console, make_staff, clock)
    dashboard = console.get("/admin").text
    assert 'id="mail-off"' not in dashboard
    assert "Mail is on</span> Mail goes to " in dashboard
    german = console.get("/admin", headers={"Accept-Language": "de"}).text
    assert "Mail ist an</span> Mails gehen an " in german


def test_the_mail_page_counts_the_queue_and_says_mail_is_not_signed(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    """Counts only: the page names no recipient of a waiting mail."""
    signed_in(console, make_staff, clock)
    queued_at = instance.jobs.clock()  # the queue's own clock decides what is due
    with instance.db.write() as session:
        for delay in (0, 0, 600):
            job_store.add(session, SEND_TASK, ({"to": "waiting@example.org"},), {},
                          now=queued_at, delay=delay)
        job_store.add(session, "sharing.notify_erasure", ("x", "y"), {}, now=queued_at)
    page = console.get("/admin/mail").text
    queue = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>",
                            page.split('id="mail-queue"')[1].split("</dl>")[0]))
    assert queue == {"Ready to send": "2", "Waiting to be tried again": "1",
                     "Being sent": "0", "Given up": "0"}
    assert "waiting@example.org" not in page
    assert "Not signed" in page
    assert "EHRLICH_DKIM_KEY_FILE" in page
    german = console.get("/admin/mail?lang=de").text
    assert "Nicht signiert" in german
