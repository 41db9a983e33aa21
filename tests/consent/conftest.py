"""Fixtures for signup, confirmation and the preference centre: an instance with mail set
up (signups are refused while it is off), a published notice with a purpose shared with a
third-party controller, and an outbox that catches the mails before SMTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender, OutgoingMail
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings
from ehrlich.web.deps import get_now
from tests.apps import app_for
from tests.conftest import NOW
from tests.e2e.servers import free_port
from tests.factories import publish_notice
from tests.instances import InstanceTemplates

PARTNER = """
  - id: partner_offers
    title:
      en: Offers from our courier
      de: Angebote unseres Kuriers
    description:
      en: Spree Kurier sends you its own offers by email.
      de: Spree Kurier schickt Ihnen eigene Angebote per E-Mail.
    legal_basis: consent
    data_categories: [email]
    channel: email
    retention:
      duration: 1 year
      starts:
        en: after you withdraw consent
        de: nach Ihrem Widerruf
    recipients: [carrier]
    consent:
      text:
        en: Yes, pass my email address to Spree Kurier GmbH for its own offers.
        de: Ja, geben Sie meine E-Mail-Adresse für eigene Angebote an die Spree Kurier GmbH weiter.

security_measures:"""
NEWSLETTER_EN = ("Yes, send me the Lindenhof newsletter by email, about once a month. I can "
                 "unsubscribe at any time with the link in each email.")
PARTNER_EN = "Yes, pass my email address to Spree Kurier GmbH for its own offers."


def with_mail(settings: Settings, port: int) -> Settings:
    """`settings` with SMTP set up to a loopback port, as an instance that takes signups."""
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
        "smtp_from": "Lindenhof <news@shop.example>"})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_mail(settings, free_port())


def notice_text() -> str:
    return example_notice_text().replace("\nsecurity_measures:", PARTNER, 1)


def publish(instance: Instance) -> int:
    return publish_notice(instance, notice_text())


@pytest.fixture
def published(instance: Instance) -> Instance:
    publish(instance)
    return instance


@pytest.fixture
def sent() -> MemoryMailSender:
    return MemoryMailSender()


@pytest.fixture
def instance(settings: Settings, sent: MemoryMailSender,
             instance_templates: InstanceTemplates) -> Iterator[Instance]:
    """The instance, sending its mail into `sent` (read it through `outbox`)."""
    instance_templates.install(settings)
    opened = replace(open_instance(settings), mail=sent)
    yield opened
    opened.close()


@pytest.fixture
def outbox(published: Instance, sent: MemoryMailSender) -> MemoryMailSender:
    return sent


def link(mail: OutgoingMail, kind: str) -> str:
    """The path of the first /<kind>/ link in a mail's text."""
    match = re.search(rf"https?://[^/\s]+(/{kind}/[A-Za-z0-9_.-]+)", mail.text)
    assert match is not None, mail.text
    return match.group(1)


@pytest.fixture
def client(instance: Instance) -> Iterator[TestClient]:
    """The app on a fixed clock (`NOW`), like the data the tests make: link lifetimes and
    expiry are then the same whatever day the suite runs."""
    app = app_for(instance)
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
