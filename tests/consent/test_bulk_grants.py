"""First grants in bulk hash exactly as the ledger does, and record one audit entry
naming every event and its hash."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.ledger.bulk import first_grants, record_first_grants
from ehrlich.consent.ledger.service import GENESIS, event_hash, verify_chain
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.factories import consent_input, new_subject

TEMPLATE = consent_input("placeholder", "granted", method="import-with-evidence")
proof = st.dictionaries(st.text(max_size=64), st.text(max_size=500), max_size=20)


@given(subjects=st.lists(st.tuples(st.text(min_size=1, max_size=36), proof), max_size=5))
def test_bulk_hashes_equal_the_ledgers(subjects: list[tuple[str, dict[str, str]]]) -> None:
    grants = first_grants(TEMPLATE, subjects, actor="staff:test", now=NOW)
    for event in grants.events:
        assert event["hash"] == event_hash(event, GENESIS)


def test_recorded_grants_verify_and_are_named_in_one_audit_entry(instance: Instance) -> None:
    ids = [new_subject(instance, f"p{n}@example.org") for n in range(3)]
    grants = first_grants(TEMPLATE, [(i, {"import": "run-1"}) for i in ids],
                          actor="staff:test", now=NOW)
    with instance.db.write() as session:
        recorded = record_first_grants(session, instance.audit, grants, now=NOW)
    with instance.db.read() as session:
        assert all(verify_chain(session, i, "newsletter", "email") for i in ids)
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "consent.granted_many")).scalar_one()
        assert instance.audit.verify_chain(session).ok
    named = json.loads(entry.detail)["events"]
    assert [row[3] for row in named] == recorded
    assert [row[4] for row in named] == [e["hash"].hex() for e in grants.events]
