"""The audit chain records every plaintext access and detects tampering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput
from tests.conftest import NOW


def _activity(instance: Instance) -> str:
    with instance.db.write() as session:
        sid = instance.subjects.create(session, SubjectInput(email="eve@example.org", name="Eve"),
                                       actor="token:a", now=NOW).subject.id
    with instance.db.write() as session:
        instance.subjects.get(session, sid, actor="token:b", now=NOW)
        instance.subjects.find(session, email="eve@example.org", actor="token:b", now=NOW)
        instance.subjects.rectify(session, sid, SubjectChanges(name="Eve Two"), actor="token:a",
                                  now=NOW)
    instance.subjects.erase(instance.db, sid, actor="token:c", now=NOW)
    return sid


def _entries(instance: Instance) -> list[AuditEntry]:
    with instance.db.read() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_every_access_is_recorded_without_personal_data(instance: Instance) -> None:
    sid = _activity(instance)
    entries = _entries(instance)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("token:a", "subject.create", sid),
        ("token:b", "subject.read", sid),
        ("token:b", "subject.search", sid),
        ("token:a", "subject.rectify", sid),
        ("token:c", "subject.erase", sid),
    ]
    text = " ".join(f"{e.actor} {e.action} {e.target} {e.detail}" for e in entries).lower()
    assert "eve" not in text
    assert "example.org" not in text
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok


def _verify(instance: Instance) -> tuple[bool, int | None, str]:
    with instance.db.read() as session:
        report = instance.audit.verify_chain(session, batch=2)
    return report.ok, report.first_broken, report.reason


def test_changed_row_is_named(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3)
                        .values(actor="token:someone-else"))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 3)
    assert "altered" in reason


def test_removed_row_is_named(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 2)
    assert "missing" in reason


def test_reordered_rows_are_named(instance: Instance) -> None:
    _activity(instance)
    entries = {e.seq: e for e in _entries(instance)}
    a, b = entries[2], entries[4]
    with instance.db.write() as session:
        for seq, src in ((2, b), (4, a)):
            session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(
                actor=src.actor, action=src.action, target=src.target, detail=src.detail,
                prev_hash=src.prev_hash, hash=src.hash))
    ok, first, _ = _verify(instance)
    assert (ok, first) == (False, 2)


def test_removed_tail_is_detected(instance: Instance) -> None:
    _activity(instance)
    with instance.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    ok, first, reason = _verify(instance)
    assert (ok, first) == (False, 5)
    assert "removed" in reason


def test_entries_rebuilt_without_the_key_do_not_verify(instance: Instance) -> None:
    """Someone with database access recomputes a hash with a guessed key: still caught."""
    import hashlib
    import hmac

    _activity(instance)
    e = _entries(instance)[0]
    forged = hmac.new(b"guess", e.prev_hash + e.actor.encode(), hashlib.sha256).digest()
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1)
                        .values(action="subject.noop", hash=forged))
    ok, first, _ = _verify(instance)
    assert (ok, first) == (False, 1)


def _rewrite_from(instance: Instance, seq: int) -> None:
    """What someone with the database and the key file can do: change entry `seq` and
    recompute every hash after it, so that the chain verifies again."""
    from ehrlich.audit.models import AuditHead
    from ehrlich.audit.service import _entry_hash

    key = instance.keyring.audit_key
    entries = _entries(instance)
    prev = entries[seq - 2].hash if seq > 1 else bytes(32)
    with instance.db.write() as session:
        for e in entries[seq - 1:]:
            actor = "nobody" if e.seq == seq else e.actor
            digest = _entry_hash(key, prev=prev, seq=e.seq, at=e.at, actor=actor,
                                 action=e.action, target=e.target, detail=e.detail)
            session.execute(update(AuditEntry).where(AuditEntry.seq == e.seq)
                            .values(actor=actor, prev_hash=prev, hash=digest))
            prev = digest
        session.execute(update(AuditHead).values(hash=prev))


def test_an_anchor_kept_elsewhere_shows_a_rewrite_with_the_key(instance: Instance) -> None:
    _activity(instance)
    with instance.db.read() as session:
        early = instance.audit.head(session)
    _activity(instance)
    with instance.db.read() as session:
        late = instance.audit.head(session)
        assert late.seq > early.seq
        assert instance.audit.check_anchors(session, [early, late]).ok
    _rewrite_from(instance, early.seq - 1)
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok  # the rewrite verifies on its own
        report = instance.audit.check_anchors(session, [late, early])
    assert not report.ok
    assert report.first_broken == early.seq
    assert "rewritten" in report.reason


def test_an_anchor_past_a_cut_tail_is_reported_missing(instance: Instance) -> None:
    from ehrlich.audit.models import AuditHead

    _activity(instance)
    with instance.db.read() as session:
        anchor = instance.audit.head(session)
    entries = _entries(instance)
    with instance.db.write() as session:  # cut the last entry and move the head back
        session.execute(delete(AuditEntry).where(AuditEntry.seq == anchor.seq))
        session.execute(update(AuditHead).values(seq=anchor.seq - 1, hash=entries[-2].hash))
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok
        report = instance.audit.check_anchors(session, [anchor])
    assert (report.ok, report.first_broken) == (False, anchor.seq)
    assert "gone" in report.reason


@given(seq=st.integers(min_value=1, max_value=2**62), digest=st.binary(min_size=32,
                                                                         max_size=32))
def test_anchor_text_round_trips(seq: int, digest: bytes) -> None:
    from ehrlich.audit.service import Anchor

    anchor = Anchor(seq, digest)
    assert Anchor.parse(str(anchor)) == anchor
    assert Anchor.parse(f"  {anchor}\n") == anchor


@given(st.text(max_size=80).filter(lambda t: ":" not in t)
       | st.sampled_from(["0:" + "ab" * 32, "5:abc", "x:" + "ab" * 32, "5:" + "ab" * 33,
                          "-3:" + "ab" * 32, "5:" + "zz" * 32,
                          "9" * 20 + ":" + "ab" * 32]))
def test_anchor_parser_refuses_anything_else_naming_the_field(text: str) -> None:
    from ehrlich.audit.service import Anchor
    from ehrlich.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        Anchor.parse(text)
    assert caught.value.problems[0].field == "anchor"
