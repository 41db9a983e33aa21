"""Killing workers loses no job and doubles none (docs/jobs.md).

Real `ehrlich worker` processes are SIGKILLed at random points while confirmation
mails and erasures wait; every mail arrives at the loopback SMTP sink, once, counted
by Message-ID, and every person is erased, with one audit entry each. A second copy
is possible only for a mail whose hand-over to the server a kill interrupted (the
server had answered the end of DATA, the worker had not yet committed): the run
records those, and a duplicate of any other mail fails the test. The full figures
(1,000 mails, 100 erasures, five kills) are `python -m bench.worker_crash`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.e2e.servers import free_port
from tests.e2e.worker_crash import crash_run
from tests.instances import InstanceTemplates
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow


@pytest.fixture
def sink() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def queued_instance(tmp_path: Path, database_url: str, sink: SmtpServer,
                    instance_templates: InstanceTemplates) -> Iterator[Instance]:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        database_url=database_url, base_url="https://shop.example",
                        smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none",
                        smtp_from="Shop <news@shop.example>", inprocess_worker=False)
    instance_templates.install(settings)
    opened = open_instance(settings)
    yield opened
    opened.close()


def test_killed_workers_lose_no_mail_or_erasure_and_double_none(
        queued_instance: Instance, sink: SmtpServer) -> None:
    config = queued_instance.settings.data_dir / "ehrlich.toml"
    run = crash_run(queued_instance, config, sink, mails=100, erasures=10, kills=4, seed=15)
    assert set(run.delivered) == run.queued_ids, "every mail arrived"
    assert len(run.queued_ids) == 100
    assert set(run.duplicates) <= run.in_window, "only a mail cut off mid-hand-over arrives again"
    assert all(copies <= 1 + run.windows[mid] for mid, copies in run.duplicates.items())
    assert len(run.in_window) <= run.kills * 2  # at most one per worker thread and kill
    assert run.erased_once == 10, "every erasure done, each once"
    assert run.left_in_queue == 0
    assert run.interrupted >= 1, "the kills landed while jobs were running"
