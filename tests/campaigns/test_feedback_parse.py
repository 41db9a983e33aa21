"""Reading DSNs (RFC 3464) and ARF complaints (RFC 5965) from raw bytes, and the Standard
Webhooks signature: examples, and properties over generated input."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ehrlich.campaigns.feedback import Feedback, normalise_message_id, parse_report
from ehrlich.campaigns.webhook import WebhookRejected, secret_key, verify
from ehrlich.cli.main import app
from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings
from tests.campaigns.reports_mail import arf, dsn

MID = "<4f1c2a9e0b7d4c3e8a6f5b2c1d0e9f8a@shop.example>"
ADA = "ada@example.org"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

addresses = st.from_regex(r"[a-z][a-z0-9.+_-]{0,20}@[a-z][a-z0-9-]{0,15}\.(org|example|de)",
                          fullmatch=True)
message_ids = st.from_regex(r"<[0-9a-f]{8,32}@[a-z][a-z0-9-]{0,15}\.(example|org)>",
                            fullmatch=True)


def test_a_hard_bounce_names_the_message_address_and_code() -> None:
    assert parse_report(dsn(MID, ADA)) == [Feedback("hard", MID, ADA, "5.1.1")]


def test_a_temporary_failure_and_a_delay_are_soft() -> None:
    assert parse_report(dsn(MID, ADA, status="4.2.2")) == [
        Feedback("soft", MID, ADA, "4.2.2")]
    assert parse_report(dsn(MID, ADA, action="delayed", status="4.4.1")) == [
        Feedback("soft", MID, ADA, "4.4.1")]


def test_the_original_may_come_whole_or_as_headers() -> None:
    assert parse_report(dsn(MID, ADA, headers_only=False)) == parse_report(dsn(MID, ADA))


def test_a_success_notification_is_no_bounce() -> None:
    assert parse_report(dsn(MID, ADA, action="delivered", status="2.0.0")) == []


def test_an_abuse_report_is_a_complaint() -> None:
    assert parse_report(arf(MID, ADA)) == [Feedback("complaint", MID, ADA)]


@pytest.mark.parametrize("kind", ["not-spam", "virus", "other"])
def test_other_feedback_types_are_left_for_a_person(kind: str) -> None:
    assert parse_report(arf(MID, ADA, feedback_type=kind)) == []


def test_ordinary_mail_and_reports_without_a_message_id_give_nothing() -> None:
    plain = b"From: a@example.org\r\nSubject: unsubscribe\r\n\r\nplease\r\n"
    assert parse_report(plain) == []
    no_id = dsn(MID, ADA).replace(f"Message-ID: {MID}".encode(), b"X-Nothing: here")
    assert parse_report(no_id) == []


def _expected(action: str, status: str) -> str | None:
    """RFC 3464 and 3463, restated: failed + 5.x.x hard, failed + 4.x.x or delayed soft."""
    if action == "delayed":
        return "soft"
    if action == "failed":
        return {"5": "hard", "4": "soft"}.get(status[0])
    return None


@given(action=st.sampled_from(["failed", "delayed", "delivered", "relayed", "expanded",
                               "FAILED", "Failed"]),
       klass=st.sampled_from("245"), subject=st.integers(0, 7), detail=st.integers(0, 9),
       message_id=message_ids, address=addresses, headers_only=st.booleans())
def test_dsn_classification_follows_action_and_status(
        action: str, klass: str, subject: int, detail: int, message_id: str, address: str,
        headers_only: bool) -> None:
    status = f"{klass}.{subject}.{detail}"
    found = parse_report(dsn(message_id, address, action=action, status=status,
                             headers_only=headers_only))
    kind = _expected(action.lower(), status)
    if kind is None:
        assert found == []
    else:
        assert found == [Feedback(kind, message_id, address, status)]  # type: ignore[arg-type]


@given(message_id=message_ids, address=addresses,
       kind=st.sampled_from(["abuse", "fraud", "not-spam", "virus", "other", "Abuse"]))
def test_arf_complaints_follow_the_feedback_type(message_id: str, address: str,
                                                 kind: str) -> None:
    found = parse_report(arf(message_id, address, feedback_type=kind))
    expected = [Feedback("complaint", message_id, address)]
    assert found == (expected if kind.lower() in ("abuse", "fraud") else [])


@given(st.binary(max_size=4096))
def test_any_bytes_give_a_list_and_never_raise(raw: bytes) -> None:
    assert isinstance(parse_report(raw), list)


@given(cut=st.integers(0, 2000), junk=st.binary(max_size=64), which=st.booleans())
def test_damaged_reports_never_raise(cut: int, junk: bytes, which: bool) -> None:
    raw = dsn(MID, ADA) if which else arf(MID, ADA)
    damaged = raw[:cut] + junk + raw[cut + len(junk):]
    found = parse_report(damaged)
    assert all(f.message_id.startswith("<") for f in found)


@given(message_id=message_ids)
def test_message_ids_normalise_with_or_without_brackets(message_id: str) -> None:
    bare = message_id.strip("<>")
    assert normalise_message_id(bare) == message_id
    assert normalise_message_id(f"  {message_id} ") == message_id
    assert normalise_message_id(normalise_message_id(bare) or "") == message_id


@pytest.mark.parametrize("value", ["", "no-at-sign", "<a b@c>", "<>", "@"])
def test_what_is_not_a_message_id(value: str) -> None:
    assert normalise_message_id(value) is None


# -- the signature -------------------------------------------------------------------------

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def _sign(key: bytes, webhook_id: str, stamp: int, body: bytes) -> str:
    """Standard Webhooks, computed here with the standard library alone."""
    mac = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def _headers(webhook_id: str, stamp: int, signature: str) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(stamp),
            "webhook-signature": signature}


@given(body=st.binary(max_size=2048), webhook_id=st.from_regex(r"msg_[A-Za-z0-9]{1,40}",
                                                                 fullmatch=True),
       skew=st.integers(-300, 300))
def test_a_signed_notification_within_five_minutes_is_accepted(
        body: bytes, webhook_id: str, skew: int) -> None:
    stamp = int(NOW.timestamp()) + skew
    signature = _sign(KEY, webhook_id, stamp, body)
    headers = _headers(webhook_id, stamp, f"v1,bm90IHRoaXMgb25l {signature}")
    assert verify(secret_key(SECRET), headers, body, now=NOW) == webhook_id


@given(body=st.binary(max_size=512), other=st.binary(max_size=512),
       skew=st.integers(301, 10**6), sign=st.sampled_from([-1, 1]))
def test_a_changed_body_or_a_stale_timestamp_is_refused(body: bytes, other: bytes, skew: int,
                                                        sign: int) -> None:
    stamp = int(NOW.timestamp())
    signature = _sign(KEY, "msg_1", stamp, body)
    if other != body:
        with pytest.raises(WebhookRejected):
            verify(KEY, _headers("msg_1", stamp, signature), other, now=NOW)
    stale = stamp + sign * skew
    with pytest.raises(WebhookRejected):
        verify(KEY, _headers("msg_1", stale, _sign(KEY, "msg_1", stale, body)), body, now=NOW)


@pytest.mark.parametrize("headers", [
    {},
    {"webhook-id": "msg_1", "webhook-timestamp": "1764504000"},
    {"webhook-id": "msg_1", "webhook-timestamp": "soon", "webhook-signature": "v1,AAAA"},
    {"webhook-id": "", "webhook-timestamp": "1764504000", "webhook-signature": "v1,AAAA"},
])
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected):
        verify(KEY, headers, b"{}", now=NOW)


def test_another_key_or_id_does_not_verify() -> None:
    stamp = int(NOW.timestamp())
    with pytest.raises(WebhookRejected):
        verify(KEY, _headers("msg_1", stamp, _sign(b"x" * 32, "msg_1", stamp, b"{}")), b"{}",
               now=NOW)
    with pytest.raises(WebhookRejected):
        verify(KEY, _headers("msg_2", stamp, _sign(KEY, "msg_1", stamp, b"{}")), b"{}",
               now=NOW)


def test_a_malformed_secret_stops_the_start_without_showing_it() -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(campaign_webhook_secret="whsec_c2hvcnQ=")
    assert "c2hvcnQ" not in refused.value.message
    assert "ehrlich campaign webhook-secret" in refused.value.message


def test_the_command_prints_a_secret_the_settings_accept() -> None:
    result = CliRunner().invoke(app, ["campaign", "webhook-secret"])
    assert result.exit_code == 0, result.output
    printed = result.output.strip()
    assert printed.startswith("whsec_")
    assert len(base64.b64decode(printed.removeprefix("whsec_"))) == 32
    assert Settings(campaign_webhook_secret=printed).campaign_webhook_secret is not None
