"""The one-click header on the wire: plain URIs in the raw bytes an SMTP server receives."""

from __future__ import annotations

import pytest

from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.mail.builder import MessageBuilder
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from tests.conftest import NOW
from tests.jobs import run_jobs
from tests.mail.conftest import SENDER
from tests.mail.raw import raw_header
from tests.mail.smtp_server import SmtpServer

LONG_URL = "https://shop.example/unsubscribe/" + "AbCd0123_-" * 30  # longer than a line
MAILTO = "mailto:unsubscribe@shop.example?subject=unsubscribe%20" + "AbCd0123_-" * 30


def send(instance: Instance, smtp: SmtpServer, unsubscribe: Unsubscribe) -> bytes:
    smtp.start()
    instance.mail.send(OutgoingMail(to="ada@example.org", subject="Autumn news",
                                    text="New in the shop.", category="marketing",
                                    unsubscribe=unsubscribe))
    run_jobs(instance)
    [got] = smtp.received
    return got.data


@pytest.mark.parametrize("mailto", [None, MAILTO])
def test_long_list_unsubscribe_leaves_as_plain_uris_folded_only_between_entries(
        instance: Instance, smtp: SmtpServer, mailto: str | None) -> None:
    header = raw_header(send(instance, smtp, Unsubscribe(LONG_URL, mailto)),
                        "List-Unsubscribe")
    assert header.startswith(b"List-Unsubscribe: <" + LONG_URL.encode() + b">")
    assert b"=?" not in header
    lines = header.split(b"\r\n")
    assert all(line.endswith(b">,") for line in lines[:-1])  # breaks only between entries
    assert all(len(line) <= 998 for line in lines)
    entries = [f"<{LONG_URL}>"] + ([f"<{mailto}>"] if mailto else [])
    assert header.replace(b"\r\n ", b" ") == b"List-Unsubscribe: " + ", ".join(
        entries).encode()


def test_short_list_unsubscribe_stays_on_one_line(instance: Instance,
                                                  smtp: SmtpServer) -> None:
    header = raw_header(send(instance, smtp, Unsubscribe("https://shop.example/u/1")),
                        "List-Unsubscribe")
    assert header == b"List-Unsubscribe: <https://shop.example/u/1>"


def test_an_unsubscribe_uri_too_long_for_a_header_line_is_refused() -> None:
    mail = OutgoingMail(to="ada@example.org", subject="News", text="Hi", category="marketing",
                        unsubscribe=Unsubscribe(LONG_URL + "x" * 700))
    with pytest.raises(InvalidInput) as caught:
        MessageBuilder(SENDER).build(mail, now=NOW)
    assert [p.field for p in caught.value.problems] == ["unsubscribe.url"]
