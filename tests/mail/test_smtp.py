"""SMTP transport against a real server on loopback: plain, STARTTLS, TLS, AUTH, refusals."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from ehrlich.mail.builder import MessageBuilder, ascii_domain
from ehrlich.mail.errors import MailDeferred, MailRefused
from ehrlich.mail.interfaces import OutgoingMail
from ehrlich.mail.service import mail_job
from ehrlich.mail.smtp import SmtpConfig, SmtpTransport
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.mail.smtp_server import Received, SmtpServer, password_checker, self_signed

RAW = MessageBuilder("Shop <news@shop.example>").build(
    OutgoingMail(to="ada@example.org", subject="Grüße", text="Hallo Ada", html="<p>Hallo</p>"),
    now=NOW).as_bytes(policy=policy.SMTP)


def deliver(config: SmtpConfig) -> None:
    SmtpTransport(config).deliver(mail_from="news@shop.example", to="ada@example.org",
                                  message=RAW)


def test_plain_delivery(smtp: SmtpServer) -> None:
    smtp.start()
    deliver(SmtpConfig("127.0.0.1", smtp.port, tls="none"))
    [got] = smtp.received
    assert (got.mail_from, got.rcpt_tos) == ("news@shop.example", ["ada@example.org"])
    msg = message_from_bytes(got.data, policy=policy.default)
    assert msg["Subject"] == "Grüße"
    assert msg.get_body(("plain",)).get_content().strip() == "Hallo Ada"  # type: ignore[union-attr]


def test_starttls_with_login(tmp_path: Path, smtp_port: int) -> None:
    cert, context = self_signed(tmp_path)
    server = SmtpServer(smtp_port, tls_context=context, require_starttls=True,
                        authenticator=password_checker("mailer", "s3cret"),
                        auth_required=True).start()
    try:
        config = SmtpConfig("127.0.0.1", smtp_port, tls="starttls", username="mailer",
                            password=SecretStr("s3cret"), ca_file=cert)
        deliver(config)
        assert len(server.received) == 1
        # an untrusted certificate is not accepted
        with pytest.raises(MailDeferred):
            deliver(SmtpConfig("127.0.0.1", smtp_port, tls="starttls"))
    finally:
        server.stop()
    assert len(server.received) == 1


def test_implicit_tls(tmp_path: Path, smtp_port: int) -> None:
    cert, context = self_signed(tmp_path)
    server = SmtpServer(smtp_port, ssl_context=context).start()
    try:
        deliver(SmtpConfig("127.0.0.1", smtp_port, tls="ssl", ca_file=cert))
    finally:
        server.stop()
    assert len(server.received) == 1


def test_server_down_is_deferred(smtp: SmtpServer) -> None:
    with pytest.raises(MailDeferred, match="not usable"):
        deliver(SmtpConfig("127.0.0.1", smtp.port, tls="none", timeout=5))


@pytest.mark.parametrize(("reply", "error"), [("550 5.1.1 no such user", MailRefused),
                                              ("450 4.2.0 mailbox busy", MailDeferred)])
def test_refusals_are_sorted_into_final_and_temporary(smtp: SmtpServer, reply: str,
                                                      error: type[Exception]) -> None:
    smtp.handler.rcpt_reply = reply
    smtp.start()
    with pytest.raises(error):
        deliver(SmtpConfig("127.0.0.1", smtp.port, tls="none"))
    assert smtp.received == []


def test_password_never_prints(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="mail.example", smtp_username="u",
                        smtp_password="hunter2-secret", smtp_from="a@b.example")
    config = SmtpConfig.from_settings(settings)
    assert config is not None
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(config)
    assert config.password is not None
    assert config.password.get_secret_value() == "hunter2-secret"


def _international(to: str) -> dict[str, Any]:
    return mail_job(MessageBuilder("Shop <news@shop.example>"),
                    OutgoingMail(to=to, subject="Grüße", text="Hallo Jürgen"), now=NOW)


def _send(port: int, to: str, *, smtputf8: bool, pipelining: bool = False) -> list[Received]:
    """The mail to `to`, built and delivered to a real server on loopback that offers
    SMTPUTF8 or not; what the server received (raises what the delivery raised)."""
    server = SmtpServer(port, enable_SMTPUTF8=smtputf8)
    server.handler.pipelining = pipelining
    server.start()
    try:
        job = _international(to)
        SmtpTransport(SmtpConfig("127.0.0.1", port, tls="none")).deliver(
            mail_from=job["mail_from"], to=job["to"], message=job["message"])
    finally:
        server.stop()
    return server.received


@pytest.mark.parametrize("pipelining", [False, True])
def test_a_non_ascii_address_goes_out_with_smtputf8(smtp_port: int, pipelining: bool) -> None:
    [got] = _send(smtp_port, "jürgen@example.org", smtputf8=True, pipelining=pipelining)
    assert got.rcpt_tos == ["jürgen@example.org"]
    head = got.data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    # RFC 6532: the address in UTF-8 as it is; an encoded-word is not an address
    assert "To: jürgen@example.org".encode() in head
    assert not any(line.startswith(b"To:") and b"=?" in line for line in head)


def test_an_ascii_address_keeps_the_ascii_message() -> None:
    job = _international("ada@example.org")
    message = job["message"]
    assert message.split(b"\r\n\r\n", 1)[0].isascii()
    assert b"\r\nTo: ada@example.org\r\n" in message
    assert b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" in message


def test_a_server_without_smtputf8_refuses_a_non_ascii_address_for_good(
        smtp_port: int) -> None:
    with pytest.raises(MailRefused, match="SMTPUTF8"):
        _send(smtp_port, "jürgen@example.org", smtputf8=False)


def test_an_international_domain_goes_out_in_ascii_without_needing_smtputf8(
        smtp_port: int) -> None:
    assert _international("juergen@bücher.example")["to"] == "juergen@xn--bcher-kva.example"
    [got] = _send(smtp_port, "juergen@bücher.example", smtputf8=False)
    assert got.rcpt_tos == ["juergen@xn--bcher-kva.example"]
    assert b"\r\nTo: juergen@xn--bcher-kva.example\r\n" in got.data
    assert got.data.split(b"\r\n\r\n", 1)[0].isascii()


@pytest.mark.parametrize(("given", "sent"), [
    ("jürgen@bücher.example", "jürgen@xn--bcher-kva.example"),  # the local part stays
    ("ada@example.org", "ada@example.org"),
    ("ada@exa mple.örg", "ada@exa mple.örg"),  # not a domain IDNA takes: as it was
])
def test_ascii_domain(given: str, sent: str) -> None:
    assert ascii_domain(given) == sent
