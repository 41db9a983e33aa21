"""Erased addresses are suppressed for every purpose, also after a restore's replay."""

from __future__ import annotations

import pytest

from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.suppression import is_suppressed
from ehrlich.consent.models import ALL_PURPOSES
from ehrlich.instance.service import Instance
from ehrlich.subjects.ledger import ErasureRecord
from tests.conftest import NOW
from tests.factories import new_subject, record


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
