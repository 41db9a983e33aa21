"""Fixtures for the rights domain: an instance whose mail goes to a real SMTP server on
loopback (through the job queue, as in production), a published notice, the app on a
fixed clock, and helpers that read the mailed `/my-data` link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from ehrlich.instance.service import Instance
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from ehrlich.web.deps import get_now
from tests.apps import app_for
from tests.conftest import NOW
from tests.consent.conftest import publish, with_mail
from tests.e2e.servers import free_port
from tests.jobs import run_jobs
from tests.mail.smtp_server import SmtpServer


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return with_mail(settings, smtp.port)


@pytest.fixture
def published(instance: Instance) -> Instance:
    publish(instance)
    return instance


@pytest.fixture
def rights(instance: Instance) -> RightsService:
    return instance.service(RightsService)


@pytest.fixture
def client(published: Instance) -> Iterator[TestClient]:
    app = app_for(published)
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def mails_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    found = []
    for got in smtp.received:
        if address in got.rcpt_tos:
            message = message_from_bytes(got.data, policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(message: EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/my-data/[A-Za-z0-9_-]+)", text_of(message))
    assert match is not None, text_of(message)
    return match.group(1)


def mailed_link(instance: Instance, smtp: SmtpServer, address: str) -> str:
    """Run the queued jobs (the link job, then the mail it queued); the newest link mailed
    to `address`."""
    run_jobs(instance)
    found = mails_to(smtp, address)
    assert found, f"no mail to {address}"
    return link_in(found[-1])
