"""The message builder: multipart, RFC 8058 headers exactly once, refusals."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.errors import InvalidInput
from ehrlich.mail.builder import MessageBuilder
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from tests.conftest import NOW

UNSUB = Unsubscribe(url="https://shop.example/unsubscribe/tok123",
                    mailto="mailto:unsubscribe@shop.example?subject=tok123")
builder = MessageBuilder("Ehrlich Shop <news@shop.example>")


def marketing(**changes: object) -> OutgoingMail:
    fields: dict[str, object] = {"to": "ada@example.org", "subject": "News", "text": "Hello",
                                 "html": "<html><body><p>Hello</p></body></html>",
                                 "category": "marketing", "unsubscribe": UNSUB}
    fields.update(changes)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


def reparse(mail: OutgoingMail) -> object:
    raw = builder.build(mail, now=NOW).as_bytes(policy=policy.SMTP)
    return message_from_bytes(raw, policy=policy.default)


def test_marketing_mail_has_one_click_headers_exactly_once_https_first() -> None:
    msg = reparse(marketing())
    assert msg.get_all("List-Unsubscribe") == [  # type: ignore[attr-defined]
        "<https://shop.example/unsubscribe/tok123>, "
        "<mailto:unsubscribe@shop.example?subject=tok123>"]
    assert msg.get_all("List-Unsubscribe-Post") == [  # type: ignore[attr-defined]
        "List-Unsubscribe=One-Click"]


def test_text_and_html_are_alternatives_and_both_show_the_link() -> None:
    msg = reparse(marketing())
    assert msg.get_content_type() == "multipart/alternative"  # type: ignore[attr-defined]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = msg.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    assert "Unsubscribe: https://shop.example/unsubscribe/tok123" in text
    assert 'href="https://shop.example/unsubscribe/tok123"' in html
    assert html.index("unsubscribe/tok123") < html.index("</body>")


@pytest.mark.parametrize(("language", "label"), [
    ("de", "Abmelden"), ("en", "Unsubscribe"), ("fr", "Unsubscribe")])
def test_the_footer_speaks_the_mail_s_language_from_the_catalogue(language: str,
                                                                   label: str) -> None:
    msg = reparse(marketing(language=language))
    text = msg.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = msg.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    assert f"{label}: https://shop.example/unsubscribe/tok123" in text
    assert f">{label}</a>" in html


def test_link_already_in_the_body_is_not_repeated() -> None:
    msg = reparse(marketing(text="Leave: https://shop.example/unsubscribe/tok123", html=None,
                            language="de"))
    text = msg.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert text.count("unsubscribe/tok123") == 1
    assert msg["Content-Language"] == "de"  # type: ignore[index]


def test_marketing_without_unsubscribe_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        builder.build(marketing(unsubscribe=None), now=NOW)
    assert raised.value.problems[0].field == "unsubscribe"


def test_transactional_mail_carries_no_list_headers() -> None:
    msg = reparse(marketing(category="transactional", unsubscribe=None))
    assert msg["List-Unsubscribe"] is None  # type: ignore[index]
    assert msg["Message-ID"].endswith("@shop.example>")  # type: ignore[index]


@pytest.mark.parametrize(("changes", "field"), [
    ({"headers": {"List-Unsubscribe": "<https://evil.example/>"}}, "headers.List-Unsubscribe"),
    ({"headers": {"Bcc": "x@example.org"}}, "headers.Bcc"),
    ({"headers": {"X-Campaign": "a\r\nBcc: x@example.org"}}, "headers"),
    ({"subject": "Hi\r\nBcc: x@example.org"}, "headers"),
    ({"to": "a@example.org, b@example.org"}, "to"),
    ({"unsubscribe": Unsubscribe(url="http://shop.example/u/1")}, "unsubscribe.url"),
    ({"unsubscribe": Unsubscribe(url="https://shop.example/u/1", mailto="x@y")},
     "unsubscribe.mailto"),
    ({"unsubscribe": Unsubscribe(url="https://shöp.example/u/1")}, "unsubscribe.url"),
    ({"unsubscribe": Unsubscribe(url="https://shop.example/u/1",
                                 mailto="mailto:abmelden@shöp.example")}, "unsubscribe.mailto"),
])
def test_bad_mail_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        builder.build(marketing(**changes), now=NOW)
    assert raised.value.problems[0].field == field


@given(st.text(max_size=200))
def test_any_subject_either_builds_cleanly_or_is_refused(subject: str) -> None:
    try:
        msg = builder.build(marketing(subject=subject), now=NOW)
    except InvalidInput:
        assert any(len(f"a{c}b".splitlines()) > 1 or ord(c) < 32 for c in subject)
        return
    raw = msg.as_bytes(policy=policy.SMTP)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].lower() for line in headers.split(b"\r\n")
             if line and not line[:1].isspace()]
    assert names.count(b"list-unsubscribe") == 1
    assert names.count(b"bcc") == 0


def test_the_return_path_is_the_envelope_sender_and_the_from_header_stays() -> None:
    bounced = MessageBuilder("Ehrlich Shop <news@shop.example>",
                             return_path="bounces@shop.example")
    assert bounced.envelope_from == "bounces@shop.example"
    assert builder.envelope_from == "news@shop.example"  # unset: the sender's address
    msg = bounced.build(OutgoingMail(to="ada@example.org", subject="Hi", text="Hello"),
                        now=NOW)
    assert str(msg["From"]) == "Ehrlich Shop <news@shop.example>"


@pytest.mark.parametrize("bad", ["Bounces <bounces@shop.example>", "bounces", "@shop.example",
                                 "bounces@localhost", "b@shop.example\r\nRCPT TO:<x@y.z>",
                                 "b ounce@shop.example", "bounces@shöp.example"])
def test_a_return_path_that_is_no_bare_address_is_refused_by_name(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        MessageBuilder("Ehrlich Shop <news@shop.example>", return_path=bad)
    assert refused.value.problems[0].field == "smtp_return_path"
