"""The subjects service on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.subjects.errors import DuplicateContact, SubjectErased, SubjectNotFound
from ehrlich.subjects.models import DataKey, Subject
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput
from tests.conftest import NOW
from tests.factories import new_subject


def test_create_and_read_round_trip(instance: Instance) -> None:
    subject_id = new_subject(instance, "Ada@Example.org", name="Ada Lovelace",
                        phone="+44 20 7946 0958", attributes={"tier": "gold", "n": 3},
                        source="trade fair")
    with instance.db.write() as session:
        view = instance.subjects.get(session, subject_id, actor="test", now=NOW)
    assert view.email == "Ada@Example.org"
    assert view.name == "Ada Lovelace"
    assert view.phone == "+442079460958"
    assert view.attributes == {"tier": "gold", "n": 3}
    assert view.source == "trade fair"
    assert view.obtained_at == NOW


def test_same_email_in_other_spelling_is_deduplicated(instance: Instance) -> None:
    first = new_subject(instance, "ada@example.org")
    with instance.db.write() as session:
        outcome = instance.subjects.create(session, SubjectInput(email="  ADA@EXAMPLE.ORG "),
                                           actor="test", now=NOW)
    assert outcome.created is False
    assert outcome.subject.id == first


def test_find_by_email_and_phone(instance: Instance) -> None:
    a = new_subject(instance, "a@example.org", phone="+49 30 1234567")
    b = new_subject(instance, "b@example.org", phone="+49301234567")
    with instance.db.write() as session:
        by_email = instance.subjects.find(session, email="A@example.org", actor="t", now=NOW)
        by_phone = instance.subjects.find(session, phone="+49 (30) 123 4567", actor="t", now=NOW)
    assert [v.id for v in by_email] == [a]
    assert sorted(v.id for v in by_phone) == sorted([a, b])


def test_rectify_changes_only_given_fields(instance: Instance) -> None:
    subject_id = new_subject(instance, "c@example.org", name="Old", attributes={"k": 1})
    with instance.db.write() as session:
        view = instance.subjects.rectify(session, subject_id, SubjectChanges(name="New"),
                                         actor="t", now=NOW)
    assert (view.name, view.email, view.attributes) == ("New", "c@example.org", {"k": 1})


def test_rectify_to_anothers_email_is_refused_and_changes_nothing(instance: Instance) -> None:
    new_subject(instance, "taken@example.org")
    mine = new_subject(instance, "mine@example.org")
    with pytest.raises(DuplicateContact), instance.db.write() as session:
        instance.subjects.rectify(session, mine, SubjectChanges(email="TAKEN@example.org"),
                                  actor="t", now=NOW)
    with instance.db.write() as session:
        assert instance.subjects.get(session, mine, actor="t", now=NOW).email == "mine@example.org"


def test_invalid_email_names_the_field_and_writes_nothing(instance: Instance) -> None:
    with pytest.raises(InvalidInput) as raised, instance.db.write() as session:
        instance.subjects.create(session, SubjectInput(email="not-an-address"), actor="t", now=NOW)
    assert raised.value.problems[0].field == "email"
    with instance.db.read() as session:
        assert session.execute(select(Subject)).first() is None


def test_erase_shreds_key_clears_indexes_and_keeps_tombstone(instance: Instance) -> None:
    subject_id = new_subject(instance, "gone@example.org", name="Gone")
    instance.subjects.erase(instance.db, subject_id, actor="t", now=NOW)
    with instance.db.read() as session:
        tomb = session.get(Subject, subject_id)
        assert tomb is not None
        assert tomb.state == "erased"
        assert (tomb.email_index, tomb.email_ct, tomb.name_ct) == (None, None, None)
        assert session.get(DataKey, subject_id) is None
    with pytest.raises(SubjectErased), instance.db.write() as session:
        instance.subjects.get(session, subject_id, actor="t", now=NOW)
    ledger = list(instance.ledger.records())
    assert [r.subject_id for r in ledger] == [subject_id]
    # the address is free again for a new, separate subject
    assert new_subject(instance, "gone@example.org") != subject_id


def test_erase_twice_is_harmless_and_unknown_is_not_found(instance: Instance) -> None:
    subject_id = new_subject(instance, "twice@example.org")
    instance.subjects.erase(instance.db, subject_id, actor="t", now=NOW)
    instance.subjects.erase(instance.db, subject_id, actor="t", now=NOW)
    assert len(list(instance.ledger.records())) == 1
    with pytest.raises(SubjectNotFound):
        instance.subjects.erase(instance.db, "00000000-0000-0000-0000-000000000000",
                                actor="t", now=NOW)


def test_bulk_create_deduplicates_within_and_against_database(instance: Instance) -> None:
    new_subject(instance, "known@example.org")
    rows = [SubjectInput(email=e) for e in
            ("new1@example.org", "KNOWN@example.org", "new2@example.org", "New1@Example.org")]
    with instance.db.write() as session:
        outcome = instance.subjects.create_many(session, rows, actor="import", now=NOW)
    assert (outcome.created, outcome.duplicates) == (2, 2)
    with instance.db.read() as session:
        assert len(session.execute(select(Subject.id)).all()) == 3
