"""The batch path of an audience export opens exactly what the one-at-a-time path opens."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.crypto import FieldCipher, FieldContext, Keyring
from ehrlich.crypto import _primitives as p
from ehrlich.crypto.envelope import (
    open_sealed,
    seal,
    subject_field_opener,
    subject_field_pairs,
)
from ehrlich.crypto.keyfile import add_kek_version, create_key_file
from ehrlich.errors import IntegrityFailure

KEY = bytes(range(32))
ids = st.text(min_size=1, max_size=40)


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path = tmp_path_factory.mktemp("keys") / "batch.key"
    create_key_file(path)
    return Keyring.from_key_file(path)


@given(plaintext=st.binary(max_size=200), subject_id=ids, table=ids, field=ids,
       version=st.integers(min_value=0, max_value=2**32 - 1))
def test_opener_agrees_with_open_sealed(plaintext: bytes, subject_id: str, table: str,
                                        field: str, version: int) -> None:
    context = FieldContext(table=table, field=field, record_id=subject_id,
                           subject_id=subject_id)
    blob = seal(KEY, plaintext, context=context, key_version=version)
    opener = subject_field_opener(table, field)
    assert opener(p.Aead(KEY), blob, subject_id) == open_sealed(KEY, blob, context=context)


@given(subject_id=ids, other=ids, position=st.integers(min_value=0, max_value=40),
       bit=st.integers(min_value=0, max_value=7))
def test_opener_refuses_another_subject_or_a_flipped_bit(subject_id: str, other: str,
                                                         position: int, bit: int) -> None:
    context = FieldContext(table="subjects", field="email", record_id=subject_id,
                           subject_id=subject_id)
    blob = seal(KEY, b"ada@example.org", context=context, key_version=1)
    opener = subject_field_opener("subjects", "email")
    if other != subject_id:
        with pytest.raises(IntegrityFailure):
            opener(p.Aead(KEY), blob, other)
    flipped = bytearray(blob)
    flipped[position % len(blob)] ^= 1 << bit
    with pytest.raises(IntegrityFailure):
        opener(p.Aead(KEY), bytes(flipped), subject_id)
    with pytest.raises(IntegrityFailure):
        opener(p.Aead(KEY), blob[:10], subject_id)
    with pytest.raises(IntegrityFailure):
        subject_field_opener("subjects", "phone")(p.Aead(KEY), blob, subject_id)


def test_open_fields_matches_unwrap_and_decrypt(keyring: Keyring) -> None:
    items = []
    for n in range(50):
        sid = f"subject-{n}"
        data_key = keyring.new_data_key()
        context = FieldContext(table="subjects", field="email", record_id=sid, subject_id=sid)
        blob = FieldCipher(data_key).encrypt(f"p{n}@example.org", context=context)
        items.append((sid, keyring.wrap_data_key(data_key, subject_id=sid), blob))
    opened = keyring.open_fields(items, table="subjects", field="email")
    assert opened == [(f"subject-{n}", f"p{n}@example.org") for n in range(50)]
    singly = [FieldCipher(keyring.unwrap_data_key(w, subject_id=s)).decrypt(
        b, context=FieldContext(table="subjects", field="email", record_id=s, subject_id=s))
        for s, w, b in items]
    assert [plain for _, plain in opened] == singly
    swapped = [(items[1][0], items[0][1], items[0][2])]  # a key moved to another subject
    with pytest.raises(IntegrityFailure):
        keyring.open_fields(swapped, table="subjects", field="email")


def test_open_fields_refuses_keys_of_another_key_file(keyring: Keyring,
                                                      tmp_path: Path) -> None:
    create_key_file(tmp_path / "other.key")
    stranger = Keyring.from_key_file(tmp_path / "other.key")
    data_key = stranger.new_data_key()
    wrapped = stranger.wrap_data_key(data_key, subject_id="s")
    blob = FieldCipher(data_key).encrypt("x@example.org", context=FieldContext(
        table="subjects", field="email", record_id="s", subject_id="s"))
    with pytest.raises(IntegrityFailure):
        keyring.open_fields([("s", wrapped, blob)], table="subjects", field="email")


@given(plaintext=st.binary(max_size=200), subject_id=ids, table=ids, field=ids)
def test_pairs_open_what_open_sealed_opens(plaintext: bytes, subject_id: str, table: str,
                                           field: str) -> None:
    data_key = bytes(reversed(KEY))
    wrapped = seal(KEY, data_key, key_version=7, context=FieldContext(
        table="data_keys", field="dek", record_id=subject_id, subject_id=subject_id))
    context = FieldContext(table=table, field=field, record_id=subject_id,
                           subject_id=subject_id)
    blob = seal(data_key, plaintext, context=context, key_version=1)
    pairs = subject_field_pairs(table, field)([(subject_id, wrapped, blob)])
    assert p.Aead(KEY).open_wrapped(pairs) == [open_sealed(data_key, blob, context=context)]
    with pytest.raises(IntegrityFailure):
        p.Aead(KEY).open_wrapped(subject_field_pairs(table, field + "x")(
            [(subject_id, wrapped, blob)]))


def test_open_fields_across_kek_versions_and_bad_blobs(tmp_path: Path) -> None:
    path = tmp_path / "rotating.key"
    create_key_file(path)
    keyring = Keyring.from_key_file(path)

    def person(sid: str) -> tuple[str, bytes, bytes]:
        data_key = keyring.new_data_key()
        blob = FieldCipher(data_key).encrypt(f"{sid}@example.org", context=FieldContext(
            table="subjects", field="email", record_id=sid, subject_id=sid))
        return sid, keyring.wrap_data_key(data_key, subject_id=sid), blob

    first = person("a")
    add_kek_version(path, activate=True)
    keyring.provider.reload()
    second = person("b")
    assert keyring.open_fields([first, second], table="subjects", field="email") == [
        ("a", "a@example.org"), ("b", "b@example.org")]
    unknown = (second[0], second[1], b"\x09" + second[2][1:])
    with pytest.raises(IntegrityFailure, match="unknown ciphertext format"):
        keyring.open_fields([second, unknown], table="subjects", field="email")
    with pytest.raises(IntegrityFailure, match="truncated"):
        keyring.open_fields([second, (second[0], second[1][:20], second[2])],
                            table="subjects", field="email")


def test_the_key_file_wraps_data_keys_as_its_general_wrap_does(keyring: Keyring) -> None:
    """`Keyring.wrap_data_key` takes the key file's shortcut; the bytes are those of
    `provider.wrap` in the data key's context, and open by the general path."""
    nonce = bytes(range(12))
    context = FieldContext("data_keys", "dek", "s-1", "s-1")
    with patch.object(p, "random_nonce", lambda: nonce):
        fast = keyring.wrap_data_key(b"k" * 32, subject_id="s-1")
        general = keyring.provider.wrap(b"k" * 32, context=context)
    assert fast == general
    assert keyring.provider.unwrap(fast, context=context) == b"k" * 32
