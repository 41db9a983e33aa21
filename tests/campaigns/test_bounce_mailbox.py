"""Bounces and complaints by mail: a campaign goes out over real SMTP (aiosmtpd), a DSN and
an ARF report naming the captured Message-IDs land in a real Dovecot mailbox as raw bytes,
and reading it over IMAP suppresses both addresses; other mail stays unread."""

from __future__ import annotations

import imaplib
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ehrlich.campaigns.bounces import MailboxRun
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import BOUNCE_TASK, run_campaign
from ehrlich.cli.main import app
from ehrlich.consent.ledger.suppression import is_suppressed
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.campaigns.conftest import SENDER
from tests.campaigns.people import address, draft, people
from tests.campaigns.reports_mail import arf, dsn
from tests.conftest import NOW
from tests.imap_server import DovecotServer
from tests.jobs import run_jobs
from tests.mail.smtp_server import SmtpServer


@pytest.fixture
def folder() -> str:
    return f"bounces-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_port: int, dovecot: DovecotServer,
             folder: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://shop.example",
                    smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_tls="none",
                    smtp_from=SENDER, campaign_rate=0, campaign_domain_rate=0,
                    bounce_imap_host="127.0.0.1", bounce_imap_port=dovecot.port,
                    bounce_imap_tls="none", bounce_imap_username=dovecot.account.username,
                    bounce_imap_password=dovecot.account.password, bounce_imap_folder=folder)


@pytest.fixture
def box(dovecot: DovecotServer, folder: str) -> Iterator[imaplib.IMAP4]:
    client = dovecot.client()
    assert client.create(folder)[0] == "OK"
    yield client
    client.logout()


def _deliver(box: imaplib.IMAP4, folder: str, raw: bytes) -> None:
    assert box.append(folder, None, None, raw)[0] == "OK"


def _count(box: imaplib.IMAP4, folder: str, criterion: str) -> int:
    assert box.select(f'"{folder}"')[0] == "OK"
    return len(box.uid("SEARCH", None, criterion)[1][0].split())


def _suppressed(instance: Instance, email: str) -> bool:
    with instance.db.read() as session:
        return is_suppressed(session, instance.subjects.email_index(email), "newsletter",
                             exact=True)


def _sent(instance: Instance, smtp: SmtpServer, count: int) -> tuple[str, dict[str, str]]:
    people(instance, count)
    campaign = draft(instance)
    instance.service(CampaignsService).act(instance.db, campaign, "send", actor="test",
                                           now=NOW)
    run_campaign(instance, campaign)
    return campaign, {
        r.rcpt_tos[0]: str(message_from_bytes(r.data, policy=policy.default)["Message-ID"])
        for r in smtp.received}


def test_a_dsn_and_an_arf_report_in_the_mailbox_suppress_the_addresses(
        instance: Instance, smtp: SmtpServer, box: imaplib.IMAP4, folder: str) -> None:
    campaign, ids = _sent(instance, smtp, 4)
    _deliver(box, folder, dsn(ids[address(0)], address(0), n=1))
    _deliver(box, folder, arf(ids[address(1)], address(1), n=2))
    _deliver(box, folder, dsn(ids[address(2)], address(2), status="4.2.2", n=3,
                              headers_only=False))
    _deliver(box, folder, dsn("<someone-else@shop.example>", address(3), n=4))  # not ours
    _deliver(box, folder, b"From: kim@example.org\r\nSubject: Out of office\r\n\r\nAway.\r\n")
    campaigns = instance.service(CampaignsService)

    assert campaigns.read_bounce_mailbox(instance.db, now=NOW) == MailboxRun(3, 2)
    assert _suppressed(instance, address(0))
    assert _suppressed(instance, address(1))
    assert not _suppressed(instance, address(2))
    assert not _suppressed(instance, address(3))
    assert _count(box, folder, "ALL") == 2  # the handled reports are gone
    assert _count(box, folder, "UNSEEN") == 2  # the rest is left for a person
    report = campaigns.report(instance.db, campaign)
    assert (report.bounced, report.complained, report.deferred, report.delivered) == (
        1, 1, 1, 3)

    # Read again, and the same reports delivered once more: nothing counts twice.
    assert campaigns.read_bounce_mailbox(instance.db, now=NOW) == MailboxRun(0, 2)
    _deliver(box, folder, dsn(ids[address(0)], address(0), n=5))
    assert campaigns.read_bounce_mailbox(instance.db, now=NOW) == MailboxRun(1, 2)
    assert campaigns.report(instance.db, campaign).bounced == 1


def test_the_worker_job_and_the_command_read_the_same_mailbox(
        instance: Instance, smtp: SmtpServer, box: imaplib.IMAP4, folder: str,
        dovecot: DovecotServer) -> None:
    _, ids = _sent(instance, smtp, 2)
    run_jobs(instance)  # the campaign's own run job, queued by `send`: nothing left to send
    _deliver(box, folder, arf(ids[address(0)], address(0)))
    assert BOUNCE_TASK in instance.jobs.task_names
    instance.jobs.enqueue(BOUNCE_TASK)
    assert run_jobs(instance) == 1
    assert _suppressed(instance, address(0))
    _deliver(box, folder, dsn(ids[address(1)], address(1)))
    env = {"EHRLICH_BOUNCE_IMAP_HOST": "127.0.0.1",
           "EHRLICH_BOUNCE_IMAP_PORT": str(dovecot.port), "EHRLICH_BOUNCE_IMAP_TLS": "none",
           "EHRLICH_BOUNCE_IMAP_USERNAME": dovecot.account.username,
           "EHRLICH_BOUNCE_IMAP_PASSWORD": dovecot.account.password,
           "EHRLICH_BOUNCE_IMAP_FOLDER": folder}
    result = CliRunner().invoke(app, ["--data-dir", str(instance.settings.data_dir),
                                      "campaign", "read-bounces"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 reports recorded, 0 left unread" in result.output
    assert _suppressed(instance, address(1))

