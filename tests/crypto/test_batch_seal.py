"""The bulk create's sealing path writes what the one-at-a-time path writes."""

from __future__ import annotations

import hmac
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.crypto import FieldCipher, FieldContext
from ehrlich.crypto import _primitives as p
from ehrlich.crypto.envelope import (
    HEADER_BYTES,
    open_sealed,
    seal,
    subject_field_sealer,
    subject_fields_sealer,
)
from ehrlich.errors import IntegrityFailure

KEY = bytes(range(32))
NONCE = bytes(range(12))
ids = st.text(min_size=1, max_size=40)


@given(plaintext=st.binary(max_size=200), subject_id=ids, table=ids, field=ids,
       version=st.integers(min_value=0, max_value=2**32 - 1))
def test_sealer_output_opens_with_open_sealed_in_the_same_context(
        plaintext: bytes, subject_id: str, table: str, field: str, version: int) -> None:
    blob = subject_field_sealer(table, field, key_version=version)(p.Aead(KEY), plaintext,
                                                                  subject_id)
    context = FieldContext(table, field, subject_id, subject_id)
    assert int.from_bytes(blob[2:HEADER_BYTES], "big") == version
    assert open_sealed(KEY, blob, context=context) == plaintext


@given(subject_id=ids, other=ids)
def test_sealed_field_is_bound_to_its_subject_and_field(subject_id: str, other: str) -> None:
    blob = FieldCipher(KEY).encrypt_subject_field("x", table="subjects", field="email",
                                                  subject_id=subject_id)
    assert FieldCipher(KEY).decrypt(blob, context=FieldContext(
        "subjects", "email", subject_id, subject_id)) == "x"
    for context in (FieldContext("subjects", "name", subject_id, subject_id),
                    *([FieldContext("subjects", "email", other, other)]
                      if other != subject_id else [])):
        try:
            FieldCipher(KEY).decrypt(blob, context=context)
        except IntegrityFailure:
            continue
        raise AssertionError("opened in another context")


def test_sealer_nonces_are_fresh() -> None:
    sealer = subject_field_sealer("subjects", "email", key_version=1)
    blobs = {sealer(p.Aead(KEY), b"same", "s1") for _ in range(50)}
    assert len(blobs) == 50


@given(key=st.binary(max_size=200), data=st.binary(max_size=300))
def test_prepared_hmac_agrees_with_the_standard_library(key: bytes, data: bytes) -> None:
    expected = hmac.digest(key, data, "sha256")
    assert p.HmacSha256(key).digest(data) == expected
    assert p.hmac_sha256(key, data) == expected


@given(plaintexts=st.lists(st.none() | st.binary(max_size=100), min_size=1, max_size=5),
       subject_id=ids, table=ids)
def test_fields_sealer_writes_the_bytes_seal_writes(
        plaintexts: list[bytes | None], subject_id: str, table: str) -> None:
    fields = tuple(f"field{n}" for n in range(len(plaintexts)))
    with patch.object(p, "random_nonce", lambda: NONCE):  # both take the same nonce
        blobs = subject_fields_sealer(table, fields, key_version=7)(
            p.Aead(KEY), subject_id, plaintexts)
        expected = [None if text is None else seal(
            KEY, text, context=FieldContext(table, field, subject_id, subject_id),
            key_version=7) for field, text in zip(fields, plaintexts, strict=True)]
    assert blobs == expected
    with pytest.raises(ValueError, match="plaintexts for"):
        subject_fields_sealer(table, fields, key_version=1)(p.Aead(KEY), subject_id,
                                                            [*plaintexts, b"extra"])


def test_fields_sealer_nonces_are_fresh() -> None:
    sealer = subject_fields_sealer("subjects", ("email", "name"), key_version=1)
    blobs = [blob for _ in range(25) for blob in sealer(p.Aead(KEY), "s1", [b"x", b"x"])]
    assert len(set(blobs)) == 50
