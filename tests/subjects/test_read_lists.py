"""A batch read under a file's reference: the audit entry names a list and its digest,
the list names exactly who was read, and an altered list no longer matches its entry."""

from __future__ import annotations

import json
import zlib

import pytest
from sqlalchemy import select, update

from ehrlich.audit.models import AuditEntry
from ehrlich.errors import IntegrityFailure, NotFound
from ehrlich.instance.service import Instance
from ehrlich.subjects.models import SubjectReadList
from ehrlich.subjects.read_lists import digest_of
from ehrlich.subjects.service import contacts_query
from tests.conftest import NOW
from tests.factories import new_subject


def _disclose(instance: Instance, ids: list[str], batch: str | None) -> dict[str, object]:
    query = contacts_query("email")
    with instance.db.read() as session:
        rows = session.execute(query.where(query.selected_columns[0].in_(ids))
                               .order_by(query.selected_columns[0])).all()
    found = instance.subjects.disclose_contacts(instance.db, rows, field="email",
                                                actor="token:t", purpose="audience:x",
                                                now=NOW, batch=batch)
    assert sorted(sid for sid, _ in found) == sorted(ids)
    with instance.db.read() as session:
        detail = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "subject.contacts.read")
            .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    parsed: dict[str, object] = json.loads(detail)
    return parsed


def test_a_batch_entry_names_its_list_and_the_list_names_who_was_read(
        instance: Instance) -> None:
    ids = sorted(new_subject(instance, f"p{n}@example.org") for n in range(5))
    named = _disclose(instance, ids, None)
    assert named["subjects"] == ids  # without a reference: every id in the entry
    detail = _disclose(instance, ids, "pull:abc")
    assert set(detail) == {"field", "batch", "count", "list", "members"}
    assert (detail["batch"], detail["count"], detail["members"]) == (
        "pull:abc", 5, digest_of(ids))
    with instance.db.read() as session:
        assert instance.subjects.read_list(session, str(detail["list"]),
                                           str(detail["members"])) == ids
        with pytest.raises(NotFound):
            instance.subjects.read_list(session, "no-such-list", str(detail["members"]))
        with pytest.raises(IntegrityFailure):  # a digest the entry does not name
            instance.subjects.read_list(session, str(detail["list"]), digest_of(ids[1:]))


def test_a_list_changed_after_its_entry_is_detected(instance: Instance) -> None:
    ids = sorted(new_subject(instance, f"p{n}@example.org") for n in range(3))
    detail = _disclose(instance, ids, "copy:c1")
    shorter = "\n".join(ids[:2]).encode()
    with instance.db.write() as session:  # someone drops a person from the list...
        session.execute(update(SubjectReadList).where(SubjectReadList.id == detail["list"])
                        .values(members=zlib.compress(shorter)))
    with instance.db.read() as session, pytest.raises(IntegrityFailure, match="altered"):
        instance.subjects.read_list(session, str(detail["list"]), str(detail["members"]))
    with instance.db.write() as session:  # ...and the stored digest with it
        session.execute(update(SubjectReadList).where(SubjectReadList.id == detail["list"])
                        .values(digest=digest_of(ids[:2])))
    with instance.db.read() as session, pytest.raises(IntegrityFailure):
        instance.subjects.read_list(session, str(detail["list"]), str(detail["members"]))
