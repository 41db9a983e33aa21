"""End to end over real SMTP (aiosmtpd on loopback), on SQLite and PostgreSQL: signup →
mail received → link followed → consent active → one-click POST of the mail's
List-Unsubscribe URL → withdrawn → the audience leaves the person out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from ehrlich.app import create_app
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.consent.conftest import publish
from tests.instances import InstanceTemplates
from tests.jobs import run_jobs
from tests.mail.conftest import (  # noqa: F401 - fixtures used by name
    settings,
    smtp,
    smtp_port,
)
from tests.mail.raw import raw_header
from tests.mail.smtp_server import SmtpServer

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def instance(settings: Settings,  # noqa: F811
             instance_templates: InstanceTemplates) -> Iterator[Instance]:
    """With its real sender (SMTP through the queue), not the consent tests' outbox."""
    instance_templates.install(settings)
    opened = open_instance(settings)
    yield opened
    opened.close()


@pytest.fixture
def shop(instance: Instance) -> Iterator[TestClient]:
    publish(instance)
    with TestClient(create_app(instance), base_url="https://shop.example") as client:
        yield client


def received(smtp: SmtpServer) -> EmailMessage:  # noqa: F811
    [got] = smtp.received
    message = message_from_bytes(got.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_signup_confirm_unsubscribe_over_real_smtp(
        instance: Instance, shop: TestClient, smtp: SmtpServer, auth: Auth) -> None:  # noqa: F811
    smtp.start()
    page = shop.get("/signup", headers={"Accept-Language": "de-DE"})
    assert "Newsletter" in page.text
    version = re.search(r'name="notice_version" value="(\d+)"', page.text)
    assert version is not None
    response = shop.post("/signup", data={
        "email": "ada@example.org", "notice_version": version.group(1), "language": "de",
        "purpose": ["newsletter"], "website": ""})
    assert response.status_code == 200
    assert run_jobs(instance) == 1
    one_click = raw_header(smtp.received[0].data, "List-Unsubscribe")
    assert one_click.startswith(b"List-Unsubscribe: <https://shop.example/")
    assert b"=?" not in one_click
    mail = received(smtp)
    assert mail["To"] == "ada@example.org"
    assert mail["Subject"].startswith("Bitte bestätigen")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    confirm = re.search(r"https://shop\.example(/confirm/\S+)", text)
    assert confirm is not None
    assert confirm.group(0).endswith("?lang=de")  # the pages answer in the mail's language
    assert len(confirm.group(0)) <= 241 + len("?lang=de")  # was 398 characters
    assert confirm.group(1) in html
    check = {"email": "ada@example.org", "purpose": "newsletter", "channel": "email"}
    reader = auth("consent:read", "audience:read")
    assert shop.get("/api/v1/consent/check", params=check,
                    headers=reader).json()["allowed"] is False
    button = shop.get(confirm.group(1), headers={"Accept-Language": "en-GB"})
    assert button.status_code == 200  # the button only, naming what it confirms
    assert "<li>Newsletter per E-Mail</li>" in button.text
    assert "Sie haben uns gebeten, Ihnen Folgendes zu senden:" in button.text
    assert shop.post(confirm.group(1)).status_code == 200
    assert shop.get("/api/v1/consent/check", params=check,
                    headers=reader).json()["allowed"] is True
    audience = shop.get("/api/v1/audience?purpose=newsletter", headers=reader)
    assert "ada@example.org" in audience.text
    header = re.match(r"<(https://[^>]+)>", str(mail["List-Unsubscribe"]))
    assert header is not None
    one_click = shop.post(urlsplit(header.group(1)).path,
                          data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
    assert one_click.status_code == 200
    state = shop.get("/api/v1/consent/check", params=check, headers=reader).json()
    assert state == {**state, "allowed": False, "state": "withdrawn"}
    audience = shop.get("/api/v1/audience?purpose=newsletter", headers=reader)
    assert audience.status_code == 200
    assert "ada@example.org" not in audience.text
