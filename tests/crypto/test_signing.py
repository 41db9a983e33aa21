"""Ed25519 signatures: the RFC 8032 vector, and every failure the same error."""

from __future__ import annotations

import base64

import pytest

from ehrlich.crypto import SignatureInvalid, SigningKey, verify_signature
from ehrlich.crypto.signing import parse_public_key
from ehrlich.errors import ConfigurationError

# RFC 8032 section 7.1, TEST 1 (empty message).
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
    "39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def test_rfc8032_vector() -> None:
    secret = base64.b64encode(SEED).decode()
    key = SigningKey.from_text(f"# comment\nEHRLICH-ED25519-SECRET:{secret}\n", source="test")
    assert key.public_key == "ed25519:" + base64.b64encode(PUBLIC).decode()
    assert base64.b64decode(key.sign(b"")) == SIGNATURE
    verify_signature(parse_public_key(key.public_key, setting="k"),
                     base64.b64encode(SIGNATURE).decode(), b"")


def test_round_trip_and_text_form() -> None:
    key = SigningKey.generate()
    again = SigningKey.from_text(key.to_text(), source="test")
    assert again.public_key == key.public_key
    assert "SECRET" not in repr(key)
    verify_signature(parse_public_key(key.public_key, setting="k"), key.sign(b"data"), b"data")


@pytest.mark.parametrize(("data", "signature"), [
    (b"datA", None), (b"data", "AAAA"), (b"data", "not base64!")])
def test_failures_raise_signature_invalid(data: bytes, signature: str | None) -> None:
    key = SigningKey.generate()
    with pytest.raises(SignatureInvalid):
        verify_signature(parse_public_key(key.public_key, setting="k"),
                         signature or key.sign(b"data"), data)


def test_another_key_is_refused() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    with pytest.raises(SignatureInvalid):
        verify_signature(parse_public_key(other.public_key, setting="k"), key.sign(b"x"), b"x")


@pytest.mark.parametrize("value", ["", "ed25519:", "ed25519:AAAA", "age1xyz"])
def test_malformed_public_key_names_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError, match="backup_signing_public_key"):
        parse_public_key(value, setting="backup_signing_public_key")
