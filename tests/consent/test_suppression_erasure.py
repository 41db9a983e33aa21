"""Erased addresses are suppressed for every purpose, also after a restore's replay."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.service import current_state, history
from ehrlich.consent.ledger.suppression import is_suppressed
from ehrlich.consent.models import ALL_PURPOSES
from ehrlich.consent.statistics import active_by_purpose
from ehrlich.instance.service import Instance
from ehrlich.subjects.ledger import ErasureRecord
from tests.conftest import NOW
from tests.factories import new_subject, record, subject_with_consent


def test_erasure_suppresses_the_address_for_every_purpose(instance: Instance) -> None:
    sid = new_subject(instance, "gone@example.org")
    index = instance.subjects.email_index("gone@example.org")
    instance.subjects.erase(instance.db, sid, actor="test", now=NOW)
    with instance.db.read() as session:
        assert is_suppressed(session, index, "newsletter")
        assert is_suppressed(session, index, ALL_PURPOSES, exact=True)
    # the same address, back through an import or the API, cannot be granted consent
    again = new_subject(instance, "GONE@example.org")
    assert again != sid
    with pytest.raises((AddressSuppressed, ConsentRefused)):
        record(instance, again, "granted")


def test_replay_restores_suppressions_made_after_the_backup(instance: Instance) -> None:
    new_subject(instance, "later@example.org")
    index = instance.subjects.email_index("later@example.org")
    replayed = ErasureRecord("00000000-0000-4000-8000-00000000abcd", index, None, NOW)
    with instance.db.write() as session:
        instance.subjects.replay_erasures(session, [replayed], now=NOW)
    with instance.db.read() as session:
        assert is_suppressed(session, index, "newsletter")


def test_erasure_ends_open_consents_as_system_tombstones(instance: Instance) -> None:
    """Nothing of an erased person reads as "on": the open consent ends with a system
    withdrawal (no personal data in it), the active count drops, the audit chain holds it,
    and a replay after a restore changes nothing more."""
    sid = subject_with_consent(instance, "ending@example.org")
    with instance.db.read() as session:
        before = {(c.purpose, c.channel): c.count for c in active_by_purpose(session)}
    instance.subjects.erase(instance.db, sid, actor="test", now=NOW)
    with instance.db.read() as session:
        assert current_state(session, sid, "newsletter", "email") == "withdrawn"
        last = history(session, sid)[-1]
        after = {(c.purpose, c.channel): c.count for c in active_by_purpose(session)}
        assert instance.audit.verify_chain(session).ok
        actions = list(session.execute(select(AuditEntry.action).where(
            AuditEntry.target == sid).order_by(AuditEntry.seq)).scalars())
    assert (last.action, last.method, last.actor) == ("withdrawn", "system", "system")
    assert last.extra == {"reason": "erasure"}
    assert after.get(("newsletter", "email"), 0) == before[("newsletter", "email")] - 1
    assert actions[-2:] == ["consent.withdrawn", "subject.erase"]
    with instance.db.write() as session:
        instance.subjects.replay_erasures(session, [ErasureRecord(
            sid, instance.subjects.email_index("ending@example.org"), None, NOW)], now=NOW)
    with instance.db.read() as session:
        assert history(session, sid)[-1] == last
