"""Signed, purpose-bound, expiring link tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.crypto import Keyring, TokenExpired, TokenInvalid, sign_token, verify_token
from ehrlich.crypto.keyfile import create_key_file


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path: Path = tmp_path_factory.mktemp("keys") / "k.key"
    create_key_file(path)
    return Keyring.from_key_file(path)


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
    forged = other.split(".")[0] + "." + token.split(".")[1]
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
