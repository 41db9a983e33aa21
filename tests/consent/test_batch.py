"""The batch path of the consent ledger (`record_consents`) against the single one, on
SQLite and PostgreSQL: the same events, states, suppressions, counts and audit entries
for the same input; a bad item names its place and field and changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.machine import ACTIONS
from ehrlich.consent.ledger.service import (
    Recorded,
    history,
    record_consent,
    record_consents,
    verify_chain,
)
from ehrlich.consent.models import (
    ConsentActiveCount,
    ConsentDailyCount,
    ConsentEvent,
    ConsentState,
    Suppression,
)
from ehrlich.consent.schemas import ConsentInput, RecordOutcome
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.factories import consent_input, new_subject

KEYS = [("newsletter", "email"), ("newsletter", "sms"), ("offers", "email")]
PEOPLE = 2
_numbers = itertools.count()


def _people(instance: Instance) -> list[str]:
    with instance.db.write() as session:
        return [instance.subjects.create(
            session, SubjectInput(email=f"batch{next(_numbers)}@example.org"), actor="test",
            now=NOW).subject.id for _ in range(PEOPLE)]


def _items(people: list[str], script: list[tuple[int, int, str]]) -> list[ConsentInput]:
    return [consent_input(people[person], action, purpose=KEYS[key][0], channel=KEYS[key][1])
            for person, key, action in script]


def _one_at_a_time(session: Session, instance: Instance, items: list[ConsentInput]
                   ) -> list[Recorded]:
    results: list[Recorded] = []
    for item in items:
        try:
            results.append(record_consent(session, instance.audit, item, actor="test",
                                          now=NOW))
        except (ConsentRefused, AddressSuppressed) as exc:
            results.append(exc)
    return results


def _outcomes(results: list[Recorded]) -> list[Any]:
    return [(r.state, r.changed, r.event_id is not None) if isinstance(r, RecordOutcome)
            else type(r).__name__ for r in results]


def _tallies(session: Session) -> tuple[dict[Any, int], dict[Any, int]]:
    daily = {tuple(k): int(n) for *k, n in session.execute(
        select(ConsentDailyCount.purpose, ConsentDailyCount.channel, ConsentDailyCount.action,
               func.sum(ConsentDailyCount.count))
        .group_by(ConsentDailyCount.purpose, ConsentDailyCount.channel,
                  ConsentDailyCount.action))}
    active = {tuple(k): int(n) for *k, n in session.execute(
        select(ConsentActiveCount.purpose, ConsentActiveCount.channel,
               func.sum(ConsentActiveCount.count))
        .group_by(ConsentActiveCount.purpose, ConsentActiveCount.channel))}
    return daily, active


def _delta(after: dict[Any, int], before: dict[Any, int]) -> dict[Any, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def _recorded(session: Session, instance: Instance, people: list[str]) -> dict[str, Any]:
    """Everything the ledger holds about these people, with ids replaced by places."""
    place = {subject_id: number for number, subject_id in enumerate(people)}
    events, states, chains = [], [], []
    for subject_id in people:
        for e in history(session, subject_id):
            events.append((place[subject_id], e.purpose, e.channel, e.action, e.method,
                           e.legal_basis, e.notice_version, e.notice_hash, e.language,
                           e.text_hash, e.form, e.extra, e.actor, e.prev_event_id is None))
        for s in session.execute(select(ConsentState).where(
                ConsentState.subject_id == subject_id)).scalars():
            states.append((place[subject_id], s.purpose, s.channel, s.state, s.notice_version,
                           s.last_event_id is None))
        chains += [verify_chain(session, subject_id, p, c) for p, c in KEYS]
    indexes = {e: place[s] for s, e in session.execute(
        select(Subject.id, Subject.email_index).where(Subject.id.in_(people)))}
    suppressed = sorted((indexes[r.email_index], r.purpose, r.reason)
                        for r in session.execute(select(Suppression).where(
                            Suppression.email_index.in_(list(indexes)))).scalars())
    audit = []
    for entry in session.execute(select(AuditEntry).where(
            AuditEntry.target.in_(people)).order_by(AuditEntry.seq)).scalars():
        detail = entry.detail
        for subject_id, number in place.items():
            detail = detail.replace(subject_id, f"<{number}>")
        audit.append((place[entry.target], entry.actor, entry.action,
                      '"purpose"' in detail, '"hash"' in detail))
    return {"events": sorted(events, key=repr), "states": sorted(states, key=repr),
            "chains": chains, "suppressed": suppressed, "audit": audit}


def _compare(instance: Instance, script: list[tuple[int, int, str]]) -> None:
    single_people, batch_people = _people(instance), _people(instance)
    with instance.db.write() as session:
        before = _tallies(session)
        single = _one_at_a_time(session, instance, _items(single_people, script))
        middle = _tallies(session)
        batch = record_consents(session, instance.audit, _items(batch_people, script),
                                actor="test", now=NOW, skip_refused=True)
        after = _tallies(session)
    assert _outcomes(batch) == _outcomes(single)
    for kind in (0, 1):
        assert _delta(after[kind], middle[kind]) == _delta(middle[kind], before[kind])
    with instance.db.read() as session:
        assert _recorded(session, instance, batch_people) == _recorded(
            session, instance, single_people)
        assert all(_recorded(session, instance, batch_people)["chains"])


SCRIPT = [(0, 0, "requested"), (0, 0, "confirmed"), (1, 0, "granted"), (0, 1, "granted"),
          (1, 0, "withdrawn"), (1, 0, "granted"), (0, 0, "confirmed"), (1, 2, "confirmed"),
          (0, 2, "objected"), (0, 2, "granted"), (1, 1, "requested"), (1, 1, "expired"),
          (0, 0, "renewal-needed"), (0, 0, "requested"), (0, 0, "confirmed"),
          (1, 0, "requested"), (1, 0, "confirmed"), (1, 0, "granted")]


def test_the_batch_records_what_one_at_a_time_records(instance: Instance) -> None:
    """Repeated keys, a confirmation of a request made earlier in the batch, a grant refused
    for a suppressed address and allowed again after the person's confirmed opt-in."""
    _compare(instance, SCRIPT)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(script=st.lists(st.tuples(st.integers(0, PEOPLE - 1), st.integers(0, len(KEYS) - 1),
                                 st.sampled_from(ACTIONS)), min_size=1, max_size=12))
def test_batch_and_one_at_a_time_agree(instance: Instance,
                                       script: list[tuple[int, int, str]]) -> None:
    _compare(instance, script)


def test_the_single_path_is_the_batch_of_one(instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    with instance.db.write() as session:
        [outcome] = record_consents(session, instance.audit, [consent_input(ada, "granted")],
                                    actor="test", now=NOW)
        again = record_consent(session, instance.audit, consent_input(ada, "granted"),
                               actor="test", now=NOW + timedelta(seconds=1))
    assert isinstance(outcome, RecordOutcome)
    assert (outcome.state, outcome.changed, again.changed) == ("active", True, False)


def _rows(session: Session) -> tuple[int, ...]:
    return tuple(int(session.execute(select(func.count()).select_from(table)).scalar_one())
                 for table in (ConsentEvent, ConsentState, Suppression, AuditEntry))


def test_a_bad_item_names_its_place_and_field_and_changes_nothing(instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    bob = new_subject(instance, "bob@example.org")
    with instance.db.write() as session:
        before = _rows(session)
        with pytest.raises(InvalidInput) as bad_method:
            record_consents(session, instance.audit, [
                consent_input(ada, "granted"), consent_input(bob, "withdrawn"),
                consent_input(bob, "granted", method="system")], actor="test", now=NOW)
        with pytest.raises(InvalidInput) as no_proof:
            record_consents(session, instance.audit, [
                consent_input(ada, "withdrawn"),
                consent_input(bob, "requested", text_shown=None)], actor="test", now=NOW)
        assert _rows(session) == before  # not even read: checked before anything else
    assert [(p.field, p.reason) for p in bad_method.value.problems] == [
        ("2.method", "'system' cannot record 'granted'")]
    assert [p.field for p in no_proof.value.problems] == ["1.text_shown"]
    # one item alone keeps the field's own name, as the API reports it
    with instance.db.write() as session, pytest.raises(InvalidInput) as single:
        record_consent(session, instance.audit, consent_input(ada, "granted", method="system"),
                       actor="test", now=NOW)
    assert [p.field for p in single.value.problems] == ["method"]


def test_a_refused_item_stops_the_batch_unless_skipped(instance: Instance) -> None:
    ada = new_subject(instance, "ada@example.org")
    bob = new_subject(instance, "bob@example.org")
    with instance.db.read() as session:
        before = _rows(session)
    with pytest.raises(ConsentRefused), instance.db.write() as session:
        record_consents(session, instance.audit, [
            consent_input(ada, "granted"), consent_input(bob, "confirmed")],
            actor="test", now=NOW)
    with instance.db.read() as session:
        assert _rows(session) == before
    with instance.db.write() as session:
        results = record_consents(session, instance.audit, [
            consent_input(ada, "granted"), consent_input(bob, "confirmed")],
            actor="test", now=NOW, skip_refused=True)
    assert isinstance(results[0], RecordOutcome)
    assert results[0].state == "active"
    assert isinstance(results[1], ConsentRefused)
