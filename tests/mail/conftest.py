"""Mail fixtures: an SMTP server on a free loopback port, and instances that use it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ehrlich.settings import Settings
from tests.e2e.servers import free_port
from tests.mail.smtp_server import SmtpServer

SENDER = "Ehrlich Shop <news@shop.example>"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    """The server, not yet started: tests decide when it is up."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_port: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://shop.example",
                    smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_tls="none",
                    smtp_from=SENDER, mail_retries=3, mail_retry_delay=10)
