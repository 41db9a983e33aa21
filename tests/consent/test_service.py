"""The consent ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.service import current_state, history, verify_chain
from ehrlich.consent.ledger.suppression import is_suppressed, suppress_everywhere
from ehrlich.consent.models import ConsentEvent, ConsentState, Suppression
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.subjects.errors import SubjectErased
from tests.conftest import NOW
from tests.factories import TEXT, consent_input, new_subject, record, subject_with_consent

EVIDENCE = {"ip": "203.0.113.77", "user_agent": "Mozilla/5.0 (X11)", "sec_gpc": "1",
            "token": "tok.abc"}


def count_events(instance: Instance) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def state_of(instance: Instance, subject_id: str) -> str:
    with instance.db.read() as session:
        return current_state(session, subject_id, "newsletter", "email")


def test_double_opt_in_becomes_active_only_after_confirmation(instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    asked = record(instance, ada, "requested", evidence=EVIDENCE)
    assert (asked.state, asked.changed) == ("requested", True)
    assert state_of(instance, ada) == "requested"
    confirmed = record(instance, ada, "confirmed", now=NOW + timedelta(minutes=5),
                       evidence={"ip": "2001:db8:1234:5678::9", "user_agent": "Phone",
                                 "token": "confirm.tok"})
    assert confirmed.state == "active"
    with instance.db.read() as session:
        events = history(session, ada)
    assert [e.action for e in events] == ["requested", "confirmed"]
    req, conf = events
    assert req.text_shown == TEXT
    assert req.text_hash == hashlib.sha256(TEXT.encode()).hexdigest()
    assert (req.ip_network, req.sec_gpc, req.default_state) == ("203.0.113.0/24", "1",
                                                                "unticked")
    assert req.user_agent_hash == hashlib.sha256(b"Mozilla/5.0 (X11)").hexdigest()
    assert req.token_hash == hashlib.sha256(b"tok.abc").hexdigest()
    # the confirmation proves the same text, version and language the request showed
    assert (conf.text_hash, conf.notice_version, conf.language) == (req.text_hash, 3, "de")
    assert conf.ip_network == "2001:db8:1234::/48"
    assert conf.prev_event_id == req.id
    assert conf.at - req.at == timedelta(minutes=5)


def test_confirmation_without_request_is_refused_and_writes_nothing(instance: Instance
                                                                    ) -> None:
    ada = new_subject(instance, "ada@example.org")
    with pytest.raises(ConsentRefused):
        record(instance, ada, "confirmed")
    assert count_events(instance) == 0
    assert state_of(instance, ada) == "none"


def test_replayed_confirmation_and_second_withdrawal_change_nothing(instance: Instance
                                                                    ) -> None:
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    again = record(instance, ada, "confirmed")
    assert (again.changed, again.event_id, again.state) == (False, None, "active")
    assert record(instance, ada, "withdrawn").state == "withdrawn"
    second = record(instance, ada, "withdrawn")
    assert (second.changed, second.state) == (False, "withdrawn")
    assert count_events(instance) == 3


@pytest.mark.parametrize(("changes", "field"), [
    ({"default_state": "ticked"}, "default_state"),
    ({"purpose": "News Letter"}, "purpose"),
    ({"text_shown": "x" * 20_001}, "text_shown"),
    ({"evidence": {"user_agent": "u" * 2001}}, "evidence.user_agent"),
])
def test_invalid_input_is_refused_before_anything_happens(instance: Instance,
                                                          changes: dict[str, object],
                                                          field: str) -> None:
    ada = new_subject(instance, "ada@example.org")
    with pytest.raises(ValidationError) as raised:
        consent_input(ada, "requested", **changes)
    assert ".".join(str(p) for p in raised.value.errors()[0]["loc"]) == field
    assert count_events(instance) == 0


@pytest.mark.parametrize(("action", "changes", "field"), [
    ("requested", {"text_shown": None}, "text_shown"),
    ("granted", {"notice_version": None}, "notice_version"),
    ("confirmed", {"method": "api"}, "method"),
    ("granted", {"method": "one-click-unsubscribe"}, "method"),
])
def test_missing_proof_or_wrong_method_names_the_field(instance: Instance, action: str,
                                                       changes: dict[str, object],
                                                       field: str) -> None:
    ada = new_subject(instance, "ada@example.org")
    with pytest.raises(InvalidInput) as raised:
        record(instance, ada, action, **changes)
    assert raised.value.problems[0].field == field
    assert count_events(instance) == 0


def test_every_event_is_in_the_audit_chain_and_the_chain_detects_tampering(
        instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    first = record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    with instance.db.read() as session:
        actions = session.execute(select(AuditEntry.action).where(
            AuditEntry.action.startswith("consent.")).order_by(AuditEntry.seq)).scalars().all()
        assert list(actions) == ["consent.requested", "consent.confirmed"]
        assert instance.audit.verify_chain(session).ok
        assert verify_chain(session, ada, "newsletter", "email")
        detail = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "consent.requested")).scalar_one()
        assert "ada@" not in detail
        assert first.event_id in detail
    with instance.db.write() as session:
        session.execute(update(ConsentEvent).where(ConsentEvent.id == first.event_id)
                        .values(text_hash=hashlib.sha256(b"other text").hexdigest()))
    with instance.db.read() as session:
        assert not verify_chain(session, ada, "newsletter", "email")


def test_withdrawal_suppresses_import_but_not_the_persons_own_opt_in(instance: Instance
                                                                     ) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    record(instance, ada, "withdrawn")
    index = instance.subjects.email_index(" ADA@example.org ")
    with instance.db.read() as session:
        assert is_suppressed(session, index, "newsletter")
        assert not is_suppressed(session, index, "offers")
    with pytest.raises(AddressSuppressed):
        record(instance, ada, "granted", method="import-with-evidence")
    assert state_of(instance, ada) == "withdrawn"
    record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    with instance.db.read() as session:
        assert not is_suppressed(session, index, "newsletter")
    assert state_of(instance, ada) == "active"


def test_erased_subject_cannot_be_enrolled_and_its_address_stays_suppressed(
        instance: Instance) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    index = instance.subjects.email_index("ada@example.org")
    instance.subjects.erase(instance.db, ada, actor="test", now=NOW)
    with instance.db.write() as session:
        suppress_everywhere(session, index, reason="erased", now=NOW)
        suppress_everywhere(session, index, reason="erased", now=NOW)  # idempotent
    with pytest.raises(SubjectErased):
        record(instance, ada, "requested")
    assert record(instance, ada, "withdrawn", method="system").state == "withdrawn"
    again = new_subject(instance, "ada@example.org")
    with pytest.raises(AddressSuppressed):
        record(instance, again, "granted", purpose="offers")
    with instance.db.read() as session:
        rows = session.execute(select(Suppression.purpose)).scalars().all()
    assert sorted(rows) == ["*"]


def test_objection_blocks_grants_by_others(instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "objected")
    with pytest.raises(ConsentRefused):
        record(instance, ada, "granted", method="admin")
    with instance.db.read() as session:
        state = session.get(ConsentState, (ada, "newsletter", "email"))
        assert state is not None
        assert state.state == "objected"


def test_concurrent_withdrawals_record_exactly_one_event(instance: Instance) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ada = new_subject(instance, "ada@example.org")
    bob = new_subject(instance, "bob@example.org")
    record(instance, ada, "granted")

    def withdraw(subject_id: str) -> bool:
        return record(instance, subject_id, "withdrawn").changed

    with ThreadPoolExecutor(max_workers=6) as pool:
        # ada has a state row already; bob has none, so the row itself is contended
        results = list(pool.map(withdraw, [ada, bob] * 6))
    assert sum(results[0::2]) == 1
    assert sum(results[1::2]) == 1
    assert count_events(instance) == 3
    assert (state_of(instance, ada), state_of(instance, bob)) == ("withdrawn", "withdrawn")
