"""The breach register: the people affected counted from the audit chain (reads by one API
token in a window, not by others, not outside it), the 72-hour clock, closing only once
the authority and the people are settled, and the `doctor` check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ehrlich.app import create_app
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.breach.draft import notices_of
from ehrlich.breach.posture import breach_clock
from ehrlich.breach.schemas import BreachChanges, NewBreach, Scope
from ehrlich.breach.service import BreachService
from ehrlich.errors import Conflict, InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.posture.schemas import PostureContext, Status
from ehrlich.subjects.queries import contacts_query
from ehrlich.web.deps import get_now
from tests.auth.conftest import Clock
from tests.conftest import NOW
from tests.factories import new_staff, new_subject, publish_notice

HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW - 10 * HOUR)


@pytest.fixture
def api(instance: Instance, clock: Clock) -> Iterator[TestClient]:
    app = create_app(instance)
    app.dependency_overrides[get_now] = lambda: clock.now
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _token(instance: Instance, name: str) -> tuple[str, str]:
    with instance.db.write() as session:
        secret, record = create_api_token(session, name=name, scopes=["subjects:read"],
                                          now=NOW - 30 * HOUR)
        return secret, f"token:{record.id}"


def test_the_people_a_token_read_in_the_window_are_counted_and_no_one_else(
        instance: Instance, api: TestClient, clock: Clock) -> None:
    people = [new_subject(instance, f"p{i}@example.org", name=f"P {i}") for i in range(7)]
    leaked, leaked_actor = _token(instance, "shop sync")
    other, _ = _token(instance, "newsletter tool")

    def read(secret: str, subject_id: str) -> None:
        got = api.get(f"/api/v1/subjects/{subject_id}",
                      headers={"Authorization": f"Bearer {secret}"})
        assert got.status_code == 200, got.text

    read(leaked, people[0])                   # before the window
    clock.advance(hours=2)                    # window: NOW - 8 h to NOW - 2 h
    read(leaked, people[1])
    read(leaked, people[2])
    read(leaked, people[2])                   # twice: one person
    found = api.get("/api/v1/subjects", params={"email": "p3@example.org"},
                    headers={"Authorization": f"Bearer {leaked}"})
    assert [s["id"] for s in found.json()] == [people[3]]
    read(other, people[4])                    # another token, inside the window
    # an audience's addresses, read by the same actor: every person in the entry counts
    with instance.db.read() as session:
        query = contacts_query("email")
        rows = session.execute(query.where(query.selected_columns[0] == people[5])).all()
    instance.subjects.disclose_contacts(instance.db, rows, field="email", actor=leaked_actor,
                                        purpose="newsletter", now=clock.now)
    # an audience pulled as a file: the entry names a list of who was in the batch
    with instance.db.read() as session:
        rows = session.execute(query.where(query.selected_columns[0] == people[0])).all()
    instance.subjects.disclose_contacts(instance.db, rows, field="email", actor=leaked_actor,
                                        purpose="newsletter", now=clock.now, batch="pull:x")
    clock.advance(hours=7)                    # after the window
    read(leaked, people[6])

    breaches = instance.service(BreachService)
    opened = breaches.open(instance.db, NewBreach(
        title="API token of the shop sync leaked in a public repository",
        noticed_at=NOW - HOUR, data_categories=[]), actor="test", now=NOW)
    scoped, read_scope = breaches.scope(instance.db, opened.id, Scope(
        actor=leaked_actor, start=NOW - 8 * HOUR, end=NOW - 2 * HOUR), actor="test", now=NOW)
    assert read_scope.subjects == {people[0], people[1], people[2], people[3], people[5]}
    assert scoped.people_counted == 5
    assert scoped.people == 5
    assert (scoped.scope_actor, scoped.batch_rows) == (leaked_actor, 0)
    assert breaches.get(instance.db, opened.id).people_counted == 5
    # a wider window takes in the reads before and after it
    wide, _ = breaches.scope(instance.db, opened.id, Scope(
        actor=leaked_actor, start=NOW - 11 * HOUR, end=NOW), actor="test", now=NOW)
    assert wide.people_counted == 6


def test_the_72_hour_clock_and_closing(instance: Instance) -> None:
    publish_notice(instance)
    breaches = instance.service(BreachService)
    ctx = PostureContext(instance=instance, now=NOW)
    assert breach_clock.run(ctx).status == Status.PASS
    with pytest.raises(InvalidInput) as refused:
        breaches.open(instance.db, NewBreach(title="x", noticed_at=NOW + HOUR,
                                             data_categories=["shoe_size"]),
                      actor="test", now=NOW)
    assert {p.field for p in refused.value.problems} == {"noticed_at", "data_categories"}
    assert breaches.listing(instance.db) == []

    laptop = breaches.open(instance.db, NewBreach(
        title="Support laptop stolen", noticed_at=NOW - 80 * HOUR,
        data_categories=["email", "name"]), actor="test", now=NOW)
    assert laptop.overdue(NOW)
    assert laptop.hours_left(NOW) == -8
    assert breach_clock.run(ctx).status == Status.FAIL
    recent = breaches.open(instance.db, NewBreach(title="Mail sent to the wrong list",
                                                  noticed_at=NOW - 2 * HOUR),
                           actor="test", now=NOW)
    assert (recent.hours_left(NOW), recent.overdue(NOW)) == (70, False)

    with pytest.raises(InvalidInput) as unsettled:
        breaches.close(instance.db, laptop.id, actor="test", now=NOW)
    assert {p.field for p in unsettled.value.problems} == {"authority_notified_at",
                                                           "tell_people"}
    breaches.update(instance.db, laptop.id, BreachChanges(
        authority_notified_at=NOW, authority_reference="BlnBDI-2026-17", tell_people="yes",
        consequences="Phishing mails in your name are possible.",
        measures="The laptop's disk is encrypted; all staff passwords were changed."),
        actor="test", now=NOW)
    assert breach_clock.run(ctx).status == Status.WARN  # the recent one is still running
    with pytest.raises(InvalidInput) as untold:
        breaches.close(instance.db, laptop.id, actor="test", now=NOW)
    assert [p.field for p in untold.value.problems] == ["people_notified_at"]

    assert "Support laptop stolen" in notices_of(breaches.get(instance.db, laptop.id),
                                                 None)["en"]
    with instance.db.read() as session:
        notice = breaches.notice(session)
    texts = notices_of(breaches.get(instance.db, laptop.id), notice)
    assert "Email address, Name" in texts["en"]
    assert "E-Mail-Adresse, Name" in texts["de"]
    assert "dpo@lindenhof-rad.example" in texts["de"]
    assert "Phishing mails in your name are possible." in texts["en"]

    breaches.update(instance.db, laptop.id, BreachChanges(people_notified_at=NOW),
                    actor="test", now=NOW)
    closed = breaches.close(instance.db, laptop.id, actor="test", now=NOW)
    assert closed.status == "closed"
    with pytest.raises(Conflict):
        breaches.update(instance.db, laptop.id, BreachChanges(measures="more"), actor="test",
                        now=NOW)
    breaches.update(instance.db, recent.id, BreachChanges(
        authority_not_notified="Sent to our own staff list only; no risk to anyone."),
        actor="test", now=NOW)
    assert breach_clock.run(ctx).status == Status.PASS
    assert [b.title for b in breaches.listing(instance.db, status="open")] == [
        "Mail sent to the wrong list"]


def test_staff_reads_are_scoped_by_account(instance: Instance) -> None:
    staff = new_staff(instance, "support")
    ada = new_subject(instance, "ada@example.org")
    bob = new_subject(instance, "bob@example.org")
    with instance.db.write() as session:
        instance.subjects.get(session, ada, actor=f"staff:{staff.id}", now=NOW - HOUR)
        instance.subjects.get(session, bob, actor="staff:someone-else", now=NOW - HOUR)
    breaches = instance.service(BreachService)
    made = breaches.open(instance.db, NewBreach(title="Account taken over", noticed_at=NOW),
                         actor="test", now=NOW)
    scoped, _ = breaches.scope(instance.db, made.id, Scope(
        actor=f"staff:{staff.id}", start=NOW - 2 * HOUR, end=NOW), actor="test", now=NOW)
    assert scoped.people_counted == 1
    with pytest.raises(InvalidInput):
        breaches.scope(instance.db, made.id, Scope(actor=f"staff:{staff.id}", start=NOW,
                                                   end=NOW - HOUR), actor="test", now=NOW)
