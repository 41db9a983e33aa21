"""Mail fixtures: an SMTP server on a free loopback port, and instances that use it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.mail.smtp_server import SmtpServer, free_port

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


def run_jobs(instance: Instance, *, later: timedelta = timedelta(0)) -> int:
    """Run what the queue holds, and scheduled jobs due within `later`; no sleeping."""
    huey = instance.jobs.huey
    huey.storage.blocking = False  # an empty PostgreSQL queue would wait for a NOTIFY
    at = datetime.now(UTC).replace(tzinfo=None) + later  # huey keeps naive UTC
    ran = 0
    due = list(huey.read_schedule(at))
    while True:
        task = due.pop() if due else huey.dequeue()
        if task is None:
            return ran
        huey.execute(task, timestamp=at)
        ran += 1
