"""Retention: the dry run lists who would go and why, by purpose; the run erases exactly
those people (through the rights domain's erasure path) and deletes consent proof kept
as long as declared. On both databases, with a fixed clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.ledger.service import history, record_consent
from ehrlich.consent.schemas import ConsentInput
from ehrlich.instance.service import Instance
from ehrlich.rights.retention import RetentionService
from ehrlich.subjects.schemas import SubjectInput
from ehrlich.subjects.service import ERASED, subject_state
from tests.conftest import NOW, Cli
from tests.factories import publish_notice, record

YEAR = timedelta(days=366)


def _person(instance: Instance, email: str, *, at: datetime = NOW - 6 * YEAR) -> str:
    with instance.db.write() as session:
        return instance.subjects.create(session, SubjectInput(email=email), actor="test",
                                        now=at).subject.id


def _record(instance: Instance, sid: str, purpose: str, basis: str, at: datetime) -> None:
    with instance.db.write() as session:
        record_consent(session, instance.audit, ConsentInput(
            subject_id=sid, purpose=purpose, channel="none", action="granted", method="api",
            legal_basis=basis), actor="test", now=at)


def _population(instance: Instance) -> dict[str, str]:
    """People whose purposes end at different times; the keys say what should happen."""
    p = {name: _person(instance, f"{name}@example.org") for name in (
        "subscribed", "unconfirmed", "pending", "withdrawn_long_ago", "withdrawn_lately",
        "customer_long_ago", "invoiced")}
    # no record under any purpose: kept as long as the longest retention (10 years)
    p["no_purpose_old"] = _person(instance, "no_purpose_old@example.org", at=NOW - 11 * YEAR)
    p["no_purpose_new"] = _person(instance, "no_purpose_new@example.org", at=NOW - YEAR)
    record(instance, p["subscribed"], "granted", now=NOW - 3 * YEAR)
    record(instance, p["unconfirmed"], "requested", now=NOW - timedelta(days=40))
    record(instance, p["pending"], "requested", now=NOW - timedelta(days=5))
    record(instance, p["withdrawn_long_ago"], "granted", now=NOW - 4 * YEAR)
    record(instance, p["withdrawn_long_ago"], "withdrawn", now=NOW - 3 * YEAR)
    record(instance, p["withdrawn_lately"], "granted", now=NOW - 4 * YEAR)
    record(instance, p["withdrawn_lately"], "withdrawn", now=NOW - YEAR)
    _record(instance, p["customer_long_ago"], "orders", "contract", NOW - 4 * YEAR)
    # withdrawn long ago, but the invoice is kept by law for ten years
    record(instance, p["invoiced"], "granted", now=NOW - 5 * YEAR)
    record(instance, p["invoiced"], "withdrawn", now=NOW - 4 * YEAR)
    _record(instance, p["invoiced"], "bookkeeping", "legal_obligation", NOW - 4 * YEAR)
    # erased six years ago: the consent proof has been kept as long as declared (5 years)
    p["erased_long_ago"] = _person(instance, "erased@example.org", at=NOW - 7 * YEAR)
    record(instance, p["erased_long_ago"], "granted", now=NOW - 7 * YEAR)
    instance.subjects.erase(instance.db, p["erased_long_ago"], actor="test", now=NOW - 6 * YEAR)
    p["erased_lately"] = _person(instance, "erased2@example.org", at=NOW - 2 * YEAR)
    record(instance, p["erased_lately"], "granted", now=NOW - 2 * YEAR)
    instance.subjects.erase(instance.db, p["erased_lately"], actor="test", now=NOW - YEAR)
    return p


GOING = {"unconfirmed": [("newsletter", "unconfirmed")],
         "withdrawn_long_ago": [("newsletter", "ended")],
         "customer_long_ago": [("orders", "ended")],
         "no_purpose_old": [("-", "no-purpose")]}


def test_dry_run_and_run_agree(instance: Instance) -> None:
    publish_notice(instance)
    people = _population(instance)
    retention = instance.service(RetentionService)
    plan = retention.plan(instance.db, now=NOW)
    names = {sid: name for name, sid in people.items()}
    assert {names[d.subject_id]: [(e.purpose, e.reason) for e in d.endings]
            for d in plan.people} == GOING
    assert [names[s] for s in plan.proofs] == ["erased_long_ago"]
    assert plan.counts() == sorted([("-", "no-purpose", 1), ("-", "proof", 1),
                                    ("newsletter", "ended", 1),
                                    ("newsletter", "unconfirmed", 1), ("orders", "ended", 1)])
    # a dry run changes nothing, and says the same again
    assert retention.run(instance.db, now=NOW, dry_run=True).plan == plan
    assert retention.plan(instance.db, now=NOW) == plan

    done = retention.run(instance.db, now=NOW)
    assert sorted(done.erased) == sorted(plan.subject_ids)
    assert done.plan == plan
    with instance.db.read() as session:
        states = {name: subject_state(session, sid) for name, sid in people.items()}
        assert history(session, people["erased_long_ago"]) == []
        assert history(session, people["erased_lately"]) != []  # still within five years
    assert {n for n, s in states.items() if s == ERASED} == {
        *GOING, "erased_long_ago", "erased_lately"}
    assert done.proof_events == 2  # the grant and the withdrawal its erasure recorded
    # nothing is left to do at the same time; a year later the withdrawal of 2025 has
    # ended too, and the request still pending today was never confirmed
    again = retention.plan(instance.db, now=NOW)
    assert (again.people, again.proofs) == ([], [])
    later = retention.plan(instance.db, now=NOW + YEAR + timedelta(days=1))
    assert {names[d.subject_id] for d in later.people} == {"withdrawn_lately",
                                                                "pending"}


def test_without_a_published_notice_nobody_goes(instance: Instance) -> None:
    people = _population(instance)
    plan = instance.service(RetentionService).run(instance.db, now=NOW).plan
    assert (plan.notice, plan.people, plan.proofs) == (None, [], [])
    with instance.db.read() as session:
        assert subject_state(session, people["unconfirmed"]) != ERASED


def test_the_command_lists_by_purpose_and_subject_references_only(
        cli: Cli, instance: Instance) -> None:
    publish_notice(instance)
    people = _population(instance)
    args = ("--data-dir", str(instance.settings.data_dir), "retention", "run")
    at = ("--at", NOW.strftime("%Y-%m-%dT%H:%M"))
    dry = cli(*args, "--dry-run", *at)
    assert dry.returncode == 0, dry.stderr
    assert "newsletter" in dry.stdout
    assert "consent request never confirmed" in dry.stdout
    assert people["unconfirmed"] not in dry.stdout  # references only with --subjects
    assert "@example.org" not in dry.stdout + dry.stderr
    listed = cli(*args, "--dry-run", "--subjects", "--json", *at)
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    assert {s["id"] for s in shown["subjects"]} == {people[n] for n in GOING}
    assert "@example.org" not in listed.stdout + listed.stderr
    refused = cli(*args, *at)
    assert refused.returncode != 0
    assert "--dry-run" in refused.stderr + refused.stdout


def test_a_person_who_consents_again_after_the_plan_is_kept(instance: Instance) -> None:
    publish_notice(instance)
    people = _population(instance)
    retention = instance.service(RetentionService)
    plan = retention.plan(instance.db, now=NOW)
    assert people["withdrawn_long_ago"] in plan.subject_ids
    # between the plan and the erasure the person subscribes again, by double opt-in
    record(instance, people["withdrawn_long_ago"], "requested", now=NOW)
    record(instance, people["withdrawn_long_ago"], "confirmed", now=NOW)
    done = retention.run(instance.db, now=NOW)
    assert people["withdrawn_long_ago"] not in done.erased
    assert sorted(done.erased) == sorted(
        s for s in plan.subject_ids if s != people["withdrawn_long_ago"])
    with instance.db.read() as session:
        assert subject_state(session, people["withdrawn_long_ago"]) != ERASED


def test_the_run_erases_in_batches_with_each_persons_reason(instance: Instance) -> None:
    """The batch erasure names each person's own ending in their audit entry, and the
    ledger holds each of them once."""
    publish_notice(instance)
    people = _population(instance)
    done = instance.service(RetentionService).run(instance.db, now=NOW)
    names = {sid: name for name, sid in people.items()}
    with instance.db.read() as session:
        reasons = {names[target]: json.loads(detail)["reason"] for target, detail in
                   session.execute(select(AuditEntry.target, AuditEntry.detail).where(
                       AuditEntry.action == "subject.erase",
                       AuditEntry.target.in_(done.erased)))}
    assert reasons == {name: "retention ({})".format(", ".join(f"{p}: {r}" for p, r in ends))
                       for name, ends in GOING.items()}
    ledger = [r.subject_id for r in instance.ledger.records()]
    assert sorted(sid for sid in ledger if sid in done.erased) == sorted(done.erased)
