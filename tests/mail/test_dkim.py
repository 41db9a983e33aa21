"""DKIM: captured mails verify with dkimpy; h= covers the one-click headers."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ehrlich.crypto.dkim_keys import dkim_dns_record
from ehrlich.errors import ConfigurationError
from ehrlich.instance.service import Instance
from ehrlich.mail.dkim import DkimSigner
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from ehrlich.mail.status import DkimStatus, dkim_status
from ehrlich.settings import Settings
from tests.jobs import run_jobs
from tests.mail.raw import raw_header
from tests.mail.smtp_server import SmtpServer

SELECTOR, DOMAIN = "mail2026", "shop.example"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Settings:
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
    return settings.model_copy(update={"dkim_key_file": key_file, "dkim_selector": SELECTOR,
                                       "dkim_domain": DOMAIN})


def dns_for(key: rsa.RSAPrivateKey) -> Any:
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else b""

    return dnsfunc


def signed_headers(message: bytes) -> list[str]:
    head = message.split(b"\r\n\r\n", 1)[0].decode()
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    [signature] = [line for line in unfolded.split("\r\n")
                   if line.lower().startswith("dkim-signature:")]
    match = re.search(r"\bh=([^;]+)", signature)
    assert match is not None
    return [h.strip().lower() for h in match.group(1).split(":")]


def test_marketing_mail_is_signed_over_the_one_click_headers(
        instance: Instance, smtp: SmtpServer, rsa_key: rsa.RSAPrivateKey) -> None:
    smtp.start()
    instance.mail.send(OutgoingMail(
        to="ada@example.org", subject="News", text="Hello", html="<p>Hello</p>",
        category="marketing",
        unsubscribe=Unsubscribe("https://shop.example/unsubscribe/t1",
                                "mailto:unsubscribe@shop.example?subject=t1")))
    run_jobs(instance)
    [got] = smtp.received
    message = got.data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert dkim.verify(message, dnsfunc=dns_for(rsa_key))
    headers = signed_headers(message)
    for name in ("from", "to", "subject", "date", "message-id", "list-unsubscribe",
                 "list-unsubscribe-post"):
        assert name in headers
    forged = message.replace(b"<https://shop.example/unsubscribe/t1>",
                             b"<https://evil.example/unsubscribe/t1>")
    assert forged != message
    assert not dkim.verify(forged, dnsfunc=dns_for(rsa_key))


def test_incomplete_dkim_settings_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="EHRLICH_DKIM_SELECTOR"):
        DkimSigner.from_settings(Settings(data_dir=tmp_path, dkim_key_file=tmp_path / "k"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        DkimSigner.from_settings(Settings(data_dir=tmp_path, dkim_key_file=tmp_path / "k",
                                          dkim_selector="s", dkim_domain="d.example"))


def test_folded_one_click_header_verifies_over_the_raw_bytes(
        instance: Instance, smtp: SmtpServer, rsa_key: rsa.RSAPrivateKey) -> None:
    url = "https://shop.example/unsubscribe/" + "AbCd0123_-" * 12
    mailto = "mailto:unsubscribe@shop.example?subject=unsubscribe%20" + "AbCd0123_-" * 12
    smtp.start()
    instance.mail.send(OutgoingMail(to="ada@example.org", subject="News", text="Hello",
                                    category="marketing", unsubscribe=Unsubscribe(url, mailto)))
    run_jobs(instance)
    [got] = smtp.received
    header = raw_header(got.data, "List-Unsubscribe")
    assert header == f"List-Unsubscribe: <{url}>,\r\n <{mailto}>".encode()
    assert dkim.verify(got.data, dnsfunc=dns_for(rsa_key))
    assert "list-unsubscribe" in signed_headers(got.data)


def test_the_record_the_mail_page_shows_verifies_a_signed_mail(
        settings: Settings, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    """What the domain's owner is told to publish is what receivers need: dkimpy verifies
    a signed message against that record and no other."""
    status = dkim_status(settings)
    assert (status.on, status.name, status.problem) == (True, f"{SELECTOR}._domainkey.{DOMAIN}",
                                                        "")
    assert status.record.startswith("v=DKIM1; k=rsa; p=")
    signer = DkimSigner.from_settings(settings)
    assert signer is not None
    message = signer.sign(b"From: news@shop.example\r\nTo: ada@example.org\r\n"
                          b"Subject: Hi\r\n\r\nHello\r\n")

    def published(name: bytes, timeout: int = 5) -> bytes:
        return status.record.encode() if name == f"{status.name}.".encode() else b""

    assert dkim.verify(message, dnsfunc=published)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not dkim.verify(message, dnsfunc=dns_for(other))


@pytest.mark.parametrize(("sender", "aligned"), [
    ("Shop <news@shop.example>", True), ("news@mail.shop.example", True),
    ("news@SHOP.example", True), ("news@other.example", False),
    ("news@notshop.example", False)])
def test_alignment_of_the_sender_with_the_signing_domain(
        settings: Settings, sender: str, aligned: bool) -> None:
    assert dkim_status(settings.model_copy(update={"smtp_from": sender})).aligned is aligned


def test_a_broken_setup_is_shown_not_raised(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "not-a-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n")
    broken = dkim_status(settings.model_copy(update={"dkim_key_file": tmp_path / "not-a-key.pem"}))
    assert not broken.on
    assert "no RSA private key" in broken.problem
    half = dkim_status(settings.model_copy(update={"dkim_selector": None}))
    assert "DKIM needs all of" in half.problem
    assert dkim_status(settings.model_copy(update={
        "dkim_key_file": None, "dkim_selector": None, "dkim_domain": None})) == DkimStatus(False)



def test_a_key_ehrlich_cannot_sign_with_is_named(tmp_path: Path) -> None:
    """Signatures are RSA-SHA256: an Ed25519 key gets no record, but a message."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    with pytest.raises(ConfigurationError, match="no RSA private key"):
        dkim_dns_record(pem)
