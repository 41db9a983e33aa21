"""Unsubscribe requests by mail, read from a real Dovecot over IMAP."""

from __future__ import annotations

import imaplib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from ehrlich.cli.main import app
from ehrlich.consent.ledger.audience import stream_audience
from ehrlich.consent.ledger.service import current_state, history
from ehrlich.consent.tasks import MAILBOX_TASK
from ehrlich.consent.unsubscribe.links import unsubscribe_link, unsubscribe_token
from ehrlich.consent.unsubscribe.mail_requests import (
    MailboxRun,
    handle_unsubscribe_requests,
    read_unsubscribe_mailbox,
)
from ehrlich.crypto import sign_token
from ehrlich.instance.service import Instance
from ehrlich.mail.errors import MailboxUnavailable
from ehrlich.mail.imap import ImapConfig, ImapMailbox, ImapTls
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.imap_server import DovecotServer
from tests.jobs import run_jobs

ADDRESS = "unsubscribe@shop.example"


@pytest.fixture
def folder() -> str:
    """The test's own folder in the one account: tests share the server, not the mail."""
    return f"requests-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, dovecot: DovecotServer, folder: str
             ) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://shop.example",
                    mail_unsubscribe_mailto=ADDRESS, unsubscribe_imap_host="127.0.0.1",
                    unsubscribe_imap_port=dovecot.port, unsubscribe_imap_tls="none",
                    unsubscribe_imap_username=dovecot.account.username,
                    unsubscribe_imap_password=dovecot.account.password,
                    unsubscribe_imap_folder=folder)


@dataclass
class Box:
    """The test's own session on the mailbox ehrlich reads."""

    client: imaplib.IMAP4
    folder: str

    def deliver(self, raw: bytes) -> None:
        status, _ = self.client.append(self.folder, None, None, raw)
        assert status == "OK"

    def count(self, criterion: str, folder: str | None = None) -> int:
        status, _ = self.client.select(f'"{folder or self.folder}"')
        assert status == "OK"
        _, data = self.client.uid("SEARCH", None, criterion)
        return len(data[0].split())


@pytest.fixture
def box(dovecot: DovecotServer, folder: str) -> Iterator[Box]:
    client = dovecot.client()
    status, _ = client.create(folder)
    assert status == "OK"
    yield Box(client, folder)
    client.logout()


def mail(subject: str, text: str = "Sent from my phone") -> bytes:
    message = EmailMessage()
    message["From"] = "Kim <kim@example.org>"
    message["To"] = ADDRESS
    message["Subject"] = subject
    message.set_content(text)
    return bytes(message)


def subscriber(instance: Instance, email: str) -> tuple[str, str]:
    """An active newsletter consent and the token of its unsubscribe link."""
    subject_id = new_subject(instance, email)
    record(instance, subject_id, "granted")
    return subject_id, unsubscribe_token(instance.keyring, subject_id=subject_id,
                                         purpose="newsletter", channel="email", now=NOW)


def run(instance: Instance) -> MailboxRun:
    config = ImapConfig.required(instance.settings)
    return read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring, config,
                                    now=NOW)


def state(instance: Instance, subject_id: str) -> str:
    with instance.db.read() as session:
        return current_state(session, subject_id, "newsletter", "email")


def audience(instance: Instance) -> set[str]:
    return {i for batch in stream_audience(instance.db, "newsletter", "email") for i in batch}


def test_the_mailto_a_mail_carries_withdraws_once_and_the_request_is_removed(
        instance: Instance, box: Box) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    other, _ = subscriber(instance, "other@example.org")
    link = unsubscribe_link(instance.settings, instance.keyring, subject_id=kim,
                            purpose="newsletter", channel="email", now=NOW)
    assert link.mailto == f"mailto:{ADDRESS}?subject=unsubscribe%20{token}"
    box.deliver(mail(f"unsubscribe {token}"))  # what the mail client makes of the mailto

    assert run(instance) == MailboxRun(withdrawn=1, left_unread=0)
    assert state(instance, kim) == "withdrawn"
    assert audience(instance) == {other}
    assert box.count("ALL") == 0  # deleted: the ledger keeps the proof

    assert run(instance) == MailboxRun(withdrawn=0, left_unread=0)
    with instance.db.read() as session:
        events = [e for e in history(session, kim) if e.action == "withdrawn"]
    assert len(events) == 1
    assert events[0].method == "mail-request"
    assert events[0].token_hash is not None
    assert events[0].ip_network is None


def test_a_token_in_the_first_text_line_counts_too(instance: Instance,
                                                   box: Box) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    message = EmailMessage()
    message["Subject"] = "Re: Newsletter November"
    message.set_content(f"\n  Unsubscribe {token}\n\n> Dear Kim, ...\n")
    message.add_alternative(f"<p>unsubscribe {token}</p>", subtype="html")
    box.deliver(bytes(message))
    assert run(instance) == MailboxRun(withdrawn=1, left_unread=0)
    assert state(instance, kim) == "withdrawn"


def test_forged_tokens_and_garbage_change_nothing_and_stay_unread(
        instance: Instance, box: Box) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    other_use = sign_token(instance.keyring, purpose="confirm", subject=kim, now=0,
                           ttl_seconds=None, data={"p": "newsletter", "c": "email"})
    broken_mime = (b"Subject: hello\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n"
                   b"Content-Type: text/plain; charset=no-such-charset\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n")
    for raw in [mail(f"unsubscribe {token[:-2]}AA"),  # forged signature
                mail(f"unsubscribe {other_use}"),  # signed for another use
                mail("unsubscribe please", f"my token was {token}"),  # not in the first line
                mail("Hello", "Please take me off your list."),
                broken_mime,
                b"\x00\xff\xfe garbage without headers",
                b"Subject: =?utf-8?B?!!!?= unsubscribe\r\n\r\n" + b"x" * 200_000]:
        box.deliver(raw)

    assert run(instance) == MailboxRun(withdrawn=0, left_unread=7)
    assert state(instance, kim) == "active"
    assert box.count("UNSEEN") == 7  # left for a person; nothing answered, nothing moved
    assert run(instance) == MailboxRun(withdrawn=0, left_unread=7)


def test_handled_requests_can_be_kept_in_a_folder_of_their_own(instance: Instance,
                                                                box: Box) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    kai, kai_token = subscriber(instance, "kai@example.org")
    box.deliver(mail(f"unsubscribe {token}"))
    box.deliver(mail("A question", "Do you ship to Austria?"))
    handled = f"{box.folder} handled"  # created on first use; a space needs quoting
    config = replace(ImapConfig.required(instance.settings), done_folder=handled)
    with ImapMailbox(config) as mailbox:
        assert handle_unsubscribe_requests(instance.db, instance.audit, instance.keyring,
                                           mailbox, now=NOW) == MailboxRun(1, 1)
    assert box.count("ALL") == 1
    assert box.count("UNSEEN") == 1  # the question, for a person
    assert box.count("SEEN", handled) == 1

    # A server without MOVE and UIDPLUS gets COPY, \Deleted and EXPUNGE instead.
    box.deliver(mail(f"unsubscribe {kai_token}"))
    with ImapMailbox(config) as mailbox:
        mailbox.capabilities -= {"MOVE", "UIDPLUS"}
        assert handle_unsubscribe_requests(instance.db, instance.audit, instance.keyring,
                                           mailbox, now=NOW) == MailboxRun(1, 1)
    assert box.count("SEEN", handled) == 2
    assert box.count("ALL") == 1
    assert {state(instance, kim), state(instance, kai)} == {"withdrawn"}


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_is_checked_against_the_configured_ca(instance: Instance, box: Box,
                                                  dovecot: DovecotServer, tls: ImapTls) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    box.deliver(mail(f"unsubscribe {token}"))
    port = dovecot.ssl_port if tls == "ssl" else dovecot.port
    untrusted = replace(ImapConfig.required(instance.settings), port=port, tls=tls)
    with pytest.raises(MailboxUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring, untrusted,
                                 now=NOW)
    assert state(instance, kim) == "active"
    assert box.count("UNSEEN") == 1

    trusted = replace(untrusted, ca_file=dovecot.cert)
    assert read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring, trusted,
                                    now=NOW) == MailboxRun(1, 0)
    assert state(instance, kim) == "withdrawn"


def test_a_wrong_password_or_folder_is_reported_without_the_password(
        instance: Instance) -> None:
    config = ImapConfig.required(instance.settings)
    wrong = replace(config, password=SecretStr("not-the-password-4711"))
    with pytest.raises(MailboxUnavailable) as caught:
        read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring, wrong, now=NOW)
    assert "login failed" in caught.value.message
    assert "4711" not in caught.value.message
    assert "4711" not in repr(wrong)

    with pytest.raises(MailboxUnavailable, match="'Nope'"):
        read_unsubscribe_mailbox(instance.db, instance.audit, instance.keyring,
                                 replace(config, folder="Nope"), now=NOW)


def test_the_worker_polls_the_mailbox(instance: Instance, box: Box) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    box.deliver(mail(f"unsubscribe {token}"))
    assert MAILBOX_TASK in instance.jobs.task_names
    instance.jobs.enqueue(MAILBOX_TASK)
    assert run_jobs(instance) == 1
    assert state(instance, kim) == "withdrawn"
    assert box.count("ALL") == 0


def test_the_command_reads_the_mailbox_and_prints_counts(instance: Instance, box: Box,
                                                         dovecot: DovecotServer) -> None:
    kim, token = subscriber(instance, "kim@example.org")
    box.deliver(mail(f"unsubscribe {token}"))
    box.deliver(mail("unsubscribe me"))
    env = {"EHRLICH_UNSUBSCRIBE_IMAP_HOST": "127.0.0.1",
           "EHRLICH_UNSUBSCRIBE_IMAP_PORT": str(dovecot.port),
           "EHRLICH_UNSUBSCRIBE_IMAP_TLS": "none",
           "EHRLICH_UNSUBSCRIBE_IMAP_USERNAME": dovecot.account.username,
           "EHRLICH_UNSUBSCRIBE_IMAP_PASSWORD": dovecot.account.password,
           "EHRLICH_UNSUBSCRIBE_IMAP_FOLDER": box.folder}
    data_dir = str(instance.settings.data_dir)
    result = CliRunner().invoke(app, ["--data-dir", data_dir, "mail", "read-unsubscribes"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "1 withdrawn, 1 left unread for a person" in result.output
    assert state(instance, kim) == "withdrawn"
