"""The overview's counts, kept at write time, always equal a recount from the raw tables:
a state machine mixes signups, confirmations, grants, withdrawals, expiries, erasures,
bulk creates, imports and renewal marking, and after every step compares
`count_by_state`, `active_by_purpose` and `daily_activity` with their recounts (on
SQLite and PostgreSQL). Rebuilding the counts (the repair) gives the same figures."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from datetime import timedelta

from alembic import command
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import inspect, text

from ehrlich.consent import counts
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.renewal import ConsentRenewalMarker
from ehrlich.consent.statistics import (
    active_by_purpose,
    daily_activity,
    recount_active_by_purpose,
    recount_daily_activity,
)
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.schemas import ColumnMapping, EvidenceMapping, ImportOptions, ImportPlan
from ehrlich.imports.service import ImportsService
from ehrlich.instance.service import Instance
from ehrlich.storage import migrate
from ehrlich.subjects.errors import SubjectErased
from ehrlich.subjects.ledger import ErasureRecord
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.factories import new_subject, record

ACTIONS = ("requested", "confirmed", "granted", "withdrawn", "objected", "expired")
PURPOSES = ("newsletter", "partner_offers")
TODAY = (NOW + timedelta(days=4)).date()
_numbers = itertools.count()  # addresses stay unique across the examples of one instance


def _address() -> str:
    return f"person{next(_numbers)}@example.org"


def _figures(instance: Instance, *, recount: bool) -> tuple[object, ...]:
    with instance.db.read() as session:
        if recount:
            return (instance.subjects.recount_by_state(session),
                    recount_active_by_purpose(session),
                    recount_daily_activity(session, days=30, today=TODAY))
        return (instance.subjects.count_by_state(session), active_by_purpose(session),
                daily_activity(session, days=30, today=TODAY))


def _import(instance: Instance, rows: list[tuple[str, bool]], *, day: int) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["E-Mail", "Opt-in-Quelle", "Opt-in-Datum"])
    for email, evidence in rows:
        writer.writerow([email, "Shop checkout" if evidence else "",
                         "2024-03-01" if evidence else ""])
    table = read_table(out.getvalue().encode())
    plan = ImportPlan(mapping=ColumnMapping(email="E-Mail"),
                      evidence=EvidenceMapping(source_column="Opt-in-Quelle",
                                               date_column="Opt-in-Datum"),
                      options=ImportOptions(source="Old list", purpose="newsletter"))
    now = NOW + timedelta(days=day)
    imports = instance.service(ImportsService)
    run = imports.create_run(instance.db, table, plan, actor="staff:test", now=now)
    imports.batch_size = 3  # several batches, some with merges
    imports.run(instance.db, run.id, table, mail=instance.mail, now=now)


def _machine(instance: Instance) -> type[RuleBasedStateMachine]:
    class Counts(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.people: list[str] = []
            self.emails: list[str] = []

        def _pick(self, index: int) -> str | None:
            return self.people[index % len(self.people)] if self.people else None

        @rule(day=st.integers(0, 3))
        def signup(self, day: int) -> None:
            email = _address()
            with instance.db.write() as session:
                made = instance.subjects.create(session, SubjectInput(email=email),
                                                actor="test", now=NOW)
            self.people.append(made.subject.id)
            self.emails.append(email)
            record(instance, made.subject.id, "requested", now=NOW + timedelta(days=day))

        @rule(index=st.integers(0, 99), action=st.sampled_from(ACTIONS),
              purpose=st.sampled_from(PURPOSES), day=st.integers(0, 3))
        def consent(self, index: int, action: str, purpose: str, day: int) -> None:
            subject_id = self._pick(index)
            if subject_id is None:
                return
            # a refusal must move nothing
            with contextlib.suppress(ConsentRefused, AddressSuppressed, SubjectErased):
                record(instance, subject_id, action, purpose=purpose,
                       now=NOW + timedelta(days=day, hours=index % 24))

        @rule(index=st.integers(0, 99))
        def erase(self, index: int) -> None:
            subject_id = self._pick(index)
            if subject_id is not None:  # again for an erased one: nothing changes
                instance.subjects.erase(instance.db, subject_id, actor="test", now=NOW)

        @rule(size=st.integers(1, 4), known=st.integers(0, 2))
        def bulk_create(self, size: int, known: int) -> None:
            emails = [_address() for _ in range(size)] + self.emails[:known]
            with instance.db.write() as session:
                placed = instance.subjects.place_many(
                    session, [SubjectInput(email=e) for e in emails], actor="test", now=NOW)
            self.people.extend(p.subject_id for p in placed if p.created)
            self.emails.extend(emails[:size])

        @rule(new=st.lists(st.booleans(), max_size=6), known=st.integers(0, 3),
              day=st.integers(0, 3))
        def import_list(self, new: list[bool], known: int, day: int) -> None:
            rows = [(_address(), evidence) for evidence in new]
            rows += [(e.upper(), True) for e in self.emails[-known:]] if known else []
            _import(instance, rows, day=day)
            self.emails.extend(e for e, _ in rows[:len(new)])

        @rule(day=st.integers(0, 3))
        def renewal(self, day: int) -> None:
            with instance.db.write() as session:
                ConsentRenewalMarker(instance.audit, batch=2).mark_for_renewal(
                    session, ["partner_offers"], notice_version=9,
                    now=NOW + timedelta(days=day))

        @invariant()
        def counts_equal_a_recount(self) -> None:
            assert _figures(instance, recount=False) == _figures(instance, recount=True)

    return Counts


def test_kept_counts_equal_a_recount_after_any_mix_of_writes(published: Instance) -> None:
    run_state_machine_as_test(_machine(published), settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck)))


def test_rebuild_recounts_rows_written_around_the_counts(published: Instance) -> None:
    for n in range(3):
        with published.db.write() as session:
            made = published.subjects.create(session, SubjectInput(email=f"r{n}@example.org"),
                                             actor="test", now=NOW)
        record(published, made.subject.id, "granted")
    published.subjects.erase(published.db, made.subject.id, actor="test", now=NOW)
    expected = _figures(published, recount=True)
    with published.db.write() as session:  # counts lost, as rows written around them
        session.execute(counts.DAILY.delete())
        session.execute(counts.ACTIVE.delete())
        published.subjects.rebuild_counts(session)
        session.execute(counts.ACTIVE.insert().values(purpose="newsletter", channel="email",
                                                      shard=3, count=7))
    assert _figures(published, recount=False) != expected
    with published.db.write() as session:
        counts.rebuild(session)
        published.subjects.rebuild_counts(session)
    assert _figures(published, recount=False) == expected
    assert expected[0] == {"active": 2, "erased": 1}


def test_replayed_erasures_move_the_counts(published: Instance) -> None:
    """A restore from before an erasure erases again, and counts it once."""
    with published.db.write() as session:
        made = published.subjects.create(session, SubjectInput(email="late@example.org"),
                                         actor="test", now=NOW)
    # as after a restore: the ledger names a subject the restored database still holds
    published.ledger.append(ErasureRecord(made.subject.id, None, None, NOW))
    for _ in range(2):
        with published.db.write() as session:
            published.subjects.replay_erasures(session, published.ledger.records(), now=NOW)
        assert _figures(published, recount=False) == _figures(published, recount=True)
    with published.db.read() as session:
        assert published.subjects.count_by_state(session) == {"erased": 1}


def test_replay_into_a_database_from_before_the_counts(published: Instance) -> None:
    """A backup made before the counts existed restores (and verifies) as before."""
    with published.db.write() as session:
        made = published.subjects.create(session, SubjectInput(email="old@example.org"),
                                         actor="test", now=NOW)
        session.execute(text("DROP TABLE subject_counts"))
    published.ledger.append(ErasureRecord(made.subject.id, None, None, NOW))
    with published.db.write() as session:
        assert published.subjects.replay_erasures(
            session, published.ledger.records(), now=NOW) == 1


def test_the_migration_counts_what_an_instance_already_holds(instance: Instance) -> None:
    """Upgrading an instance from before the counts fills them from its rows."""
    people = [new_subject(instance, f"m{n}@example.org") for n in range(3)]
    record(instance, people[0], "granted")
    record(instance, people[1], "requested", now=NOW - timedelta(days=2))
    record(instance, people[1], "confirmed")
    record(instance, people[2], "granted", channel="sms")
    record(instance, people[2], "withdrawn", channel="sms")
    instance.subjects.erase(instance.db, people[2], actor="test", now=NOW)
    expected = _figures(instance, recount=True)
    config = migrate.alembic_config(instance.db.url)
    with instance.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_consent_activity_index")
    assert not inspect(instance.db.engine).has_table("subject_counts")
    migrate.upgrade(instance.db)
    assert _figures(instance, recount=False) == expected
    assert expected[0] == {"active": 2, "erased": 1}
