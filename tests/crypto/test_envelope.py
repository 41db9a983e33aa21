"""The ciphertext format: round trip, binding to its place, tamper detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.crypto import _primitives as p
from ehrlich.crypto.envelope import (
    HEADER_BYTES,
    MIN_BYTES,
    FieldContext,
    key_version,
    length_prefixed,
    open_sealed,
    read_header,
    seal,
)
from ehrlich.errors import IntegrityFailure

KEY = bytes(range(32))
CTX = FieldContext(table="subjects", field="email", record_id="r1", subject_id="s1")
names = st.text(min_size=0, max_size=40)
contexts = st.builds(FieldContext, table=names, field=names, record_id=names, subject_id=names)


def test_aes_gcm_known_answer_vectors() -> None:
    """McGrew & Viega GCM spec test cases 13 and 14 (256-bit zero key, zero IV)."""
    key, iv = bytes(32), bytes(12)
    assert p.aead_encrypt(key, iv, b"", b"").hex() == "530f8afbc74536b9a963b4f1c4cb738b"
    assert p.aead_encrypt(key, iv, bytes(16), b"").hex() == (
        "cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919")


@given(plaintext=st.binary(max_size=2048), context=contexts,
       key_version=st.integers(min_value=0, max_value=2**32 - 1))
def test_round_trip_and_self_describing_header(plaintext: bytes, context: FieldContext,
                                               key_version: int) -> None:
    blob = seal(KEY, plaintext, context=context, key_version=key_version)
    assert len(blob) == MIN_BYTES + len(plaintext)
    header = read_header(blob)
    assert (header.version, header.algorithm, header.key_version) == (1, 1, key_version)
    assert open_sealed(KEY, blob, context=context) == plaintext


@given(plaintext=st.binary(min_size=0, max_size=256), position=st.integers(min_value=0),
       bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_detected(plaintext: bytes, position: int, bit: int) -> None:
    blob = bytearray(seal(KEY, plaintext, context=CTX, key_version=1))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(IntegrityFailure):
        open_sealed(KEY, bytes(blob), context=CTX)


@pytest.mark.parametrize("other", [
    FieldContext("subjects", "name", "r1", "s1"),
    FieldContext("subjects", "email", "r2", "s1"),
    FieldContext("subjects", "email", "r1", "s2"),
    FieldContext("staff", "email", "r1", "s1"),
    # length prefixes: moving a character between parts must not collide
    FieldContext("subjects", "emai", "lr1", "s1"),
])
def test_ciphertext_moved_to_another_place_fails(other: FieldContext) -> None:
    blob = seal(KEY, b"ada@example.org", context=CTX, key_version=1)
    with pytest.raises(IntegrityFailure):
        open_sealed(KEY, blob, context=other)


def test_wrong_key_fails_and_truncation_fails() -> None:
    blob = seal(KEY, b"secret", context=CTX, key_version=1)
    with pytest.raises(IntegrityFailure):
        open_sealed(bytes(32), blob, context=CTX)
    for cut in (0, HEADER_BYTES, MIN_BYTES - 1, len(blob) - 1):
        with pytest.raises(IntegrityFailure):
            open_sealed(KEY, blob[:cut], context=CTX)
        if cut < MIN_BYTES:
            with pytest.raises(IntegrityFailure, match="truncated"):
                key_version(blob[:cut])


def test_unknown_format_version_is_refused() -> None:
    blob = bytearray(seal(KEY, b"x", context=CTX, key_version=1))
    blob[0] = 2
    with pytest.raises(IntegrityFailure, match="unknown ciphertext format"):
        open_sealed(KEY, bytes(blob), context=CTX)
    with pytest.raises(IntegrityFailure, match="unknown ciphertext format"):
        key_version(bytes(blob))


def test_nonces_are_fresh() -> None:
    blobs = {seal(KEY, b"same", context=CTX, key_version=1) for _ in range(200)}
    assert len(blobs) == 200


@given(plaintext=st.binary(max_size=256), context=contexts,
       version=st.integers(min_value=0, max_value=2**32 - 1))
def test_associated_data_is_the_documented_length_prefixed_sequence(
        plaintext: bytes, context: FieldContext, version: int) -> None:
    """Opened by hand with the format's definition, so a change to the fast path
    that stops matching data sealed earlier cannot pass unseen."""
    blob = seal(KEY, plaintext, context=context, key_version=version)
    assert key_version(blob) == read_header(blob).key_version == version
    header = blob[:HEADER_BYTES]
    associated = length_prefixed(header, context.table.encode(), context.field.encode(),
                                 context.record_id.encode(), context.subject_id.encode())
    nonce, body = blob[HEADER_BYTES:HEADER_BYTES + p.NONCE_BYTES], blob[HEADER_BYTES
                                                                         + p.NONCE_BYTES:]
    assert p.aead_decrypt(KEY, nonce, body, associated) == plaintext
