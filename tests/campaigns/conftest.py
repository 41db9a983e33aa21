"""Campaign fixtures: an instance that sends over a real SMTP server on loopback, and
audiences made in bulk through the services (subjects, first grants of consent)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from ehrlich.settings import Settings
from tests.e2e.servers import free_port
from tests.factories import publish_notice
from tests.mail.smtp_server import SmtpServer

SENDER = "Ehrlich Shop <news@shop.example>"
WEBHOOK_KEY = bytes(range(100, 132))
WEBHOOK_SECRET = "whsec_" + base64.b64encode(WEBHOOK_KEY).decode()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_port: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://shop.example",
                    smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_tls="none",
                    smtp_from=SENDER, mail_retries=3, mail_retry_delay=10,
                    campaign_rate=0, campaign_domain_rate=0, campaign_connections=3,
                    campaign_webhook_secret=WEBHOOK_SECRET)


@pytest.fixture(autouse=True)
def published_notice(request: pytest.FixtureRequest) -> None:
    """A campaign's purpose must be a consent purpose by email of the published notice:
    every instance here has the example notice (whose `newsletter` is one)."""
    if "instance" in request.fixturenames:
        publish_notice(request.getfixturevalue("instance"))
