"""Signed, purpose-bound, expiring link tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.crypto import (
    Keyring,
    TokenExpired,
    TokenInvalid,
    sign_token,
    token_signer,
    verify_token,
)
from ehrlich.crypto.keyfile import create_key_file
from ehrlich.crypto.tokens import _canonical_uuid


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path: Path = tmp_path_factory.mktemp("keys") / "k.key"
    create_key_file(path)
    return Keyring.from_key_file(path)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_round_trip_with_data(keyring: Keyring) -> None:
    token = sign_token(keyring, purpose="confirm", subject="s1", now=1000, ttl_seconds=60,
                       data={"purpose_id": "newsletter"})
    claims = verify_token(keyring, token, purpose="confirm", now=1059)
    assert (claims.subject, claims.expires_at, claims.data) == ("s1", 1060,
                                                                {"purpose_id": "newsletter"})


def test_expired_token_is_refused(keyring: Keyring) -> None:
    token = sign_token(keyring, purpose="confirm", subject="s1", now=1000, ttl_seconds=60)
    with pytest.raises(TokenExpired):
        verify_token(keyring, token, purpose="confirm", now=1060)


def test_token_without_expiry_never_expires(keyring: Keyring) -> None:
    token = sign_token(keyring, purpose="unsubscribe", subject="s1", now=0, ttl_seconds=None)
    assert verify_token(keyring, token, purpose="unsubscribe", now=10**12).expires_at is None


def test_token_for_another_purpose_is_refused(keyring: Keyring) -> None:
    token = sign_token(keyring, purpose="unsubscribe", subject="s1", now=0, ttl_seconds=None)
    with pytest.raises(TokenInvalid):
        verify_token(keyring, token, purpose="preferences", now=0)


def test_forged_payload_is_refused(keyring: Keyring, tmp_path: Path) -> None:
    token = sign_token(keyring, purpose="confirm", subject="s1", now=0, ttl_seconds=60)
    other = sign_token(keyring, purpose="confirm", subject="s2", now=0, ttl_seconds=60)
    forged = _b64(_unb64(other)[:-16] + _unb64(token)[-16:])  # s2's payload, s1's MAC
    with pytest.raises(TokenInvalid):
        verify_token(keyring, forged, purpose="confirm", now=0)
    create_key_file(tmp_path / "other.key")
    stranger = Keyring.from_key_file(tmp_path / "other.key")
    with pytest.raises(TokenInvalid):
        verify_token(stranger, token, purpose="confirm", now=0)


@given(st.text(max_size=300))
def test_garbage_is_always_token_invalid(keyring: Keyring, garbage: str) -> None:
    with pytest.raises(TokenInvalid):
        verify_token(keyring, garbage, purpose="confirm", now=0)


SUBJECT = "0b0e6f1c-3f1d-4d4f-9a59-5a3f3e4f2a10"


def legacy_token(keyring: Keyring, *, purpose: str, subject: str, expires: int | None,
                 data: dict[str, object]) -> str:
    """A token in the earlier JSON form, as old mails carry it."""
    payload = json.dumps({"p": purpose, "s": subject, "e": expires, "d": data},
                         separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    sig = hmac.new(keyring.token_key(purpose), body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def test_uuid_subject_token_is_short(keyring: Keyring) -> None:
    token = sign_token(keyring, purpose="consent-preferences", subject=SUBJECT, now=0,
                       ttl_seconds=None)
    # form byte, 16-byte UUID, 4-byte expiry, 16-byte MAC: 37 bytes, 50 characters
    assert len(token) == 50
    assert verify_token(keyring, token, purpose="consent-preferences", now=0).subject == SUBJECT


def test_links_in_old_mails_still_verify(keyring: Keyring) -> None:
    old = legacy_token(keyring, purpose="unsubscribe", subject=SUBJECT, expires=None,
                       data={"p": "newsletter", "c": "email"})
    claims = verify_token(keyring, old, purpose="unsubscribe", now=10**9)
    assert (claims.subject, claims.expires_at, claims.data) == (
        SUBJECT, None, {"p": "newsletter", "c": "email"})
    with pytest.raises(TokenInvalid):
        verify_token(keyring, old, purpose="consent-preferences", now=0)


def _respellings(token: str) -> list[str]:
    """Other strings that decode to the same bytes under a lenient base64 decoder."""
    alphabet = string.ascii_letters + string.digits + "-_"
    spellings = [token + "=", token + "==", token.replace("-", "+").replace("_", "/")]
    for index, part in enumerate(token.split(".")):
        for char in alphabet:
            changed = part[:-1] + char
            lenient = base64.urlsafe_b64decode(changed + "=" * (-len(changed) % 4))
            if changed != part and lenient == base64.urlsafe_b64decode(
                    part + "=" * (-len(part) % 4)):
                parts = token.split(".")
                parts[index] = changed
                spellings.append(".".join(parts))
    return [s for s in spellings if s != token]


@given(subject=st.uuids().map(str) | st.text(min_size=1, max_size=40),
       data=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
       legacy=st.booleans())
def test_any_other_spelling_of_a_token_is_refused(keyring: Keyring, subject: str,
                                                   data: dict[str, object],
                                                   legacy: bool) -> None:
    token = (legacy_token(keyring, purpose="unsubscribe", subject=subject, expires=None,
                          data=data) if legacy else
             sign_token(keyring, purpose="unsubscribe", subject=subject, now=0,
                        ttl_seconds=None, data=data))
    assert verify_token(keyring, token, purpose="unsubscribe", now=0).subject == subject
    for other in _respellings(token):
        with pytest.raises(TokenInvalid):
            verify_token(keyring, other, purpose="unsubscribe", now=0)


def test_an_expiry_that_would_read_as_never_is_refused(keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="expiry"):
        sign_token(keyring, purpose="confirm", subject=SUBJECT, now=0, ttl_seconds=0)


def _old_uuid_form(subject: str) -> bytes | None:
    """How a subject was read before the fast path: a UUID only in its canonical spelling."""
    try:
        found = uuid.UUID(subject)
    except ValueError:
        return None
    return found.bytes if str(found) == subject else None


_UUID_LIKE = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()) | st.uuids().map(
    lambda u: u.hex) | st.uuids().map(lambda u: "{" + str(u) + "}") | st.text(
    alphabet="0123456789abcdefABCDEF-g {}x", min_size=30, max_size=40) | st.text(max_size=40)


@given(subject=_UUID_LIKE)
def test_the_fast_uuid_check_agrees_with_the_uuid_module(subject: str) -> None:
    assert _canonical_uuid(subject) == _old_uuid_form(subject)


@given(subjects=st.lists(st.uuids().map(str) | st.text(min_size=1, max_size=40),
                         max_size=5),
       data=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
       ttl=st.none() | st.integers(min_value=1, max_value=10**6))
def test_a_signer_makes_the_tokens_sign_token_makes(keyring: Keyring, subjects: list[str],
                                                    data: dict[str, object],
                                                    ttl: int | None) -> None:
    sign = token_signer(keyring, purpose="unsubscribe", now=1000, ttl_seconds=ttl, data=data)
    for subject in subjects:
        assert sign(subject) == sign_token(keyring, purpose="unsubscribe", subject=subject,
                                           now=1000, ttl_seconds=ttl, data=data)
        assert verify_token(keyring, sign(subject), purpose="unsubscribe",
                            now=1000).subject == subject
