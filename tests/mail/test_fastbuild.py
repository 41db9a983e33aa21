"""The bulk builder's bytes and the reference builder's message are the same message:
the same headers (List-Unsubscribe folded the same way, byte for byte) and bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.mail.builder import MAIL_POLICY, MessageBuilder
from ehrlich.mail.fastbuild import FastBuilder
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from tests.mail.raw import raw_header

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BUILDER = MessageBuilder("Ehrlich Shop <news@shop.example>")
FAST = FastBuilder(BUILDER)
HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
           "List-Unsubscribe-Post", "Content-Language", "MIME-Version")
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=300)


def _parsed(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def _same(mail: OutgoingMail) -> None:
    slow = BUILDER.build(mail, now=NOW, message_id="<m1@shop.example>").as_bytes(
        policy=MAIL_POLICY)
    fast = FAST.build_bytes(mail, now=NOW, message_id="<m1@shop.example>")
    a, b = _parsed(slow), _parsed(fast)
    for name in HEADERS:
        assert str(a[name]) == str(b[name]), name
    assert raw_header(slow, "List-Unsubscribe") == raw_header(fast, "List-Unsubscribe")
    for kind in ("plain", "html"):
        part_a, part_b = a.get_body((kind,)), b.get_body((kind,))
        assert (part_a is None) == (part_b is None)
        if part_a is not None and part_b is not None:
            norm = [p.get_content().replace("\r\n", "\n").rstrip("\n")  # type: ignore[attr-defined]
                    for p in (part_a, part_b)]
            assert norm[0] == norm[1], kind
    assert all(len(line) <= 998 for line in fast.split(b"\r\n"))
    assert b"\n" not in fast.replace(b"\r\n", b"")


@settings(max_examples=150, deadline=None)
@given(subject=texts.filter(lambda s: s.strip() != ""), text=texts, html=st.none() | texts,
       url_tail=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=400))
def test_fast_bytes_parse_to_the_reference_message(subject: str, text: str, html: str | None,
                                                   url_tail: str) -> None:
    subject = " ".join(subject.split()) or "x"
    _same(OutgoingMail(to="jürgen.x@example.org" if "ü" in text else "ada.l+news@example.org",
                       subject=subject, text=text, html=html, category="marketing",
                       language="de", unsubscribe=Unsubscribe(
                           f"https://shop.example/unsubscribe/{url_tail}",
                           mailto="mailto:leave@shop.example?subject=unsubscribe%20x")))


def test_long_lines_dots_and_umlauts() -> None:
    _same(OutgoingMail(to="ada@example.org", subject="Neuigkeiten für Jürgen " * 5,
                       text=".\n.. leading dots\n" + "ä" * 500 + "\n" + "x" * 2000,
                       html="<p>" + "ö" * 900 + "</p>", category="marketing",
                       unsubscribe=Unsubscribe("https://shop.example/unsubscribe/" + "t" * 800)))


@settings(max_examples=100, deadline=None)
@given(subject=st.lists(st.sampled_from(["a", " ", "\r", "\n", "\r\n", "Bcc: x@y.org", "ü",
                                         ":", "=?utf-8?q?x?="]), min_size=1, max_size=12
                        ).map("".join),
       text=texts)
def test_header_injection_is_refused_alike(subject: str, text: str) -> None:
    """A subject with CR or LF (a header injection) is refused by both builders with the
    same `InvalidInput`; any other subject gives the same message."""
    from ehrlich.errors import InvalidInput
    mail = OutgoingMail(to="ada@example.org", subject=subject, text=text, html="<p>x</p>",
                        category="marketing",
                        unsubscribe=Unsubscribe("https://shop.example/unsubscribe/t"))
    outcomes = []
    for build in (lambda: BUILDER.build(mail, now=NOW, message_id="<m1@shop.example>"),
                  lambda: FAST.build_bytes(mail, now=NOW, message_id="<m1@shop.example>")):
        try:
            build()
            outcomes.append("built")
        except InvalidInput:
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]
    if outcomes[0] == "built":
        _same(mail)
    else:
        assert "\r" in subject or "\n" in subject


def test_the_date_header_follows_the_clock_to_the_second() -> None:
    """The Date header is formatted once a second: a later second, or the same instant
    in another zone, gets its own."""
    builder = FastBuilder(BUILDER)
    mail = OutgoingMail(to="ada@example.org", subject="hi", text="x", category="transactional")
    berlin = timezone(timedelta(hours=1))
    dates = [raw_header(builder.build_bytes(mail, now=now, message_id="<d@shop.example>"),
                        "Date") for now in (
        NOW.replace(microsecond=1), NOW.replace(microsecond=999_999),
        NOW + timedelta(seconds=1), (NOW + timedelta(seconds=1)).astimezone(berlin))]
    assert dates == [b"Date: Sun, 29 Nov 2026 12:00:00 +0000",
                     b"Date: Sun, 29 Nov 2026 12:00:00 +0000",
                     b"Date: Sun, 29 Nov 2026 12:00:01 +0000",
                     b"Date: Sun, 29 Nov 2026 13:00:01 +0100"]
