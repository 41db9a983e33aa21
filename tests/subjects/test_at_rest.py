"""What an attacker with the database (but not the key file) sees, and erasure."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from ehrlich.crypto import FieldContext, decrypt_field
from ehrlich.errors import IntegrityFailure
from ehrlich.instance.service import Instance
from ehrlich.subjects.models import DataKey, Subject
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW

PEOPLE = [
    {"email": "grace.hopper@navy.example", "name": "Grace Brewster Hopper",
     "phone": "+1 202 555 0143", "attributes": {"note": "COBOL-Kurs Teilnehmerin"}},
    {"email": "ada.lovelace@analytical.example", "name": "Augusta Ada King",
     "phone": "+44 20 7946 0958", "attributes": {"note": "Notes on the Engine"}},
]
NEEDLES = [b"grace.hopper", b"Grace Brewster", b"2025550143", b"COBOL-Kurs",
           b"ada.lovelace", b"Augusta Ada", b"2079460958", b"Notes on the Engine",
           b"navy.example", b"analytical.example"]


def _create_all(instance: Instance) -> list[str]:
    ids = []
    with instance.db.write() as session:
        for person in PEOPLE:
            ids.append(instance.subjects.create(session, SubjectInput(**person), actor="t",
                                                now=NOW).subject.id)
    return ids


def _stored_bytes(instance: Instance) -> bytes:
    """Every byte the database holds: the files on SQLite, every table's rows on PostgreSQL."""
    if instance.db.is_sqlite:
        db_path = Path(instance.db.url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    chunks = []
    with instance.db.engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - catalogue names
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\x00".join(chunks)


def test_no_plaintext_personal_data_at_rest(instance: Instance) -> None:
    _create_all(instance)
    with instance.db.write() as session:  # reads and searches must not leave plaintext either
        instance.subjects.find(session, email="grace.hopper@navy.example", actor="t", now=NOW)
    if instance.db.is_sqlite:
        instance.db.purge_deleted_rows("subjects")
    raw = _stored_bytes(instance)
    assert len(raw) > 1000
    found = [needle for needle in NEEDLES if needle.lower() in raw.lower()]
    assert found == []


def test_after_erasure_nothing_decrypts_even_with_the_kek(instance: Instance) -> None:
    grace, ada = _create_all(instance)
    with instance.db.read() as session:
        before = session.get(Subject, grace)
        wrapped = session.get(DataKey, grace)
        assert before is not None
        assert wrapped is not None
        old_ciphertexts = [before.email_ct, before.name_ct, before.phone_ct]
        old_wrapped = wrapped.wrapped
    instance.subjects.erase(instance.db, grace, actor="t", now=NOW)

    with instance.db.read() as session:
        remaining_keys = session.execute(select(DataKey)).scalars().all()
    assert [k.subject_id for k in remaining_keys] == [ada]
    # every data key that still exists, unwrapped with the KEK, fails on the old ciphertexts
    for key in remaining_keys:
        data_key = instance.keyring.unwrap_data_key(key.wrapped, subject_id=key.subject_id)
        for field, blob in zip(("email", "name", "phone"), old_ciphertexts, strict=True):
            assert blob is not None
            with pytest.raises(IntegrityFailure):
                decrypt_field(data_key, blob, context=FieldContext("subjects", field, grace,
                                                                   grace))
    if instance.db.is_sqlite:  # physically gone from the files too
        raw = _stored_bytes(instance)
        assert old_wrapped not in raw
        assert all(blob not in raw for blob in old_ciphertexts if blob)


def test_ciphertext_moved_to_another_subject_fails_loudly(instance: Instance) -> None:
    grace, ada = _create_all(instance)
    with instance.db.write() as session:
        stolen = session.execute(select(Subject.email_ct).where(Subject.id == grace)).scalar_one()
        session.execute(update(Subject).where(Subject.id == ada).values(email_ct=stolen))
    with pytest.raises(IntegrityFailure), instance.db.write() as session:
        instance.subjects.get(session, ada, actor="t", now=NOW)


def test_flipped_bit_in_stored_ciphertext_fails_loudly(instance: Instance) -> None:
    grace, _ = _create_all(instance)
    with instance.db.write() as session:
        blob = bytearray(session.execute(
            select(Subject.name_ct).where(Subject.id == grace)).scalar_one() or b"")
        blob[-3] ^= 0x01
        session.execute(update(Subject).where(Subject.id == grace).values(name_ct=bytes(blob)))
    with pytest.raises(IntegrityFailure), instance.db.write() as session:
        instance.subjects.get(session, grace, actor="t", now=NOW)


def test_data_key_moved_to_another_subject_fails_loudly(instance: Instance) -> None:
    grace, ada = _create_all(instance)
    with instance.db.write() as session:
        graces = session.execute(
            select(DataKey.wrapped).where(DataKey.subject_id == grace)).scalar_one()
        session.execute(update(DataKey).where(DataKey.subject_id == ada).values(wrapped=graces))
    with pytest.raises(IntegrityFailure), instance.db.write() as session:
        instance.subjects.get(session, ada, actor="t", now=NOW)
