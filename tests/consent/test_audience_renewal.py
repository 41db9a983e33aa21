"""Audience streaming and renewal marking on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.ledger.audience import stream_audience
from ehrlich.consent.ledger.renewal import ConsentRenewalMarker
from ehrlich.consent.ledger.service import history, verify_chain
from ehrlich.consent.ledger.suppression import suppress
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.factories import new_subject, record


def audience(instance: Instance, purpose: str = "newsletter", channel: str = "email",
             batch_size: int = 2) -> list[list[str]]:
    return list(stream_audience(instance.db, purpose, channel, batch_size=batch_size))


def test_audience_has_exactly_the_active_consents_in_batches(instance: Instance) -> None:
    ids = {name: new_subject(instance, f"{name}@example.org")
           for name in ("a", "b", "c", "d", "e", "f", "g")}
    for name in ("a", "b", "c", "d", "e", "f"):
        record(instance, ids[name], "granted")
    record(instance, ids["g"], "requested")  # never confirmed
    record(instance, ids["b"], "withdrawn")
    record(instance, ids["c"], "granted", channel="sms", purpose="offers")
    instance.subjects.erase(instance.db, ids["d"], actor="test", now=NOW)
    with instance.db.write() as session:  # suppressed although the state row says active
        suppress(session, instance.subjects.email_index("e@example.org"),
                 purpose="newsletter", reason="complaint", now=NOW)
    batches = audience(instance)
    assert all(len(batch) <= 2 for batch in batches)
    assert sorted(i for batch in batches for i in batch) == sorted([ids["a"], ids["c"],
                                                                    ids["f"]])
    assert audience(instance, "offers", "sms") == [[ids["c"]]]
    assert audience(instance, "offers", "email") == []


def test_a_withdrawal_during_streaming_applies_to_later_batches(instance: Instance) -> None:
    ids = sorted(new_subject(instance, f"p{n}@example.org") for n in range(5))
    for subject_id in ids:
        record(instance, subject_id, "granted")
    stream = stream_audience(instance.db, "newsletter", "email", batch_size=2)
    first = next(stream)
    assert first == ids[:2]
    record(instance, ids[4], "withdrawn")
    rest = [i for batch in stream for i in batch]
    assert rest == ids[2:4]


def test_mark_for_renewal_counts_people_and_leaves_others_alone(instance: Instance) -> None:
    ids = [new_subject(instance, f"r{n}@example.org") for n in range(4)]
    record(instance, ids[0], "granted")
    record(instance, ids[0], "granted", channel="sms")
    record(instance, ids[1], "granted")
    record(instance, ids[2], "granted", purpose="offers")
    record(instance, ids[3], "requested")
    marker = ConsentRenewalMarker(instance.audit, batch=1)
    with instance.db.write() as session:
        affected = marker.mark_for_renewal(session, ["newsletter", "unknown"], notice_version=4,
                                           now=NOW)
    assert affected == 2
    assert audience(instance) == []
    assert audience(instance, "offers") == [[ids[2]]]
    with instance.db.read() as session:
        events = history(session, ids[0])
        for channel in ("email", "sms"):
            chain = [e for e in events if e.channel == channel]
            assert [e.action for e in chain] == ["granted", "renewal-needed"]
            assert chain[1].notice_version == 4
            assert chain[1].prev_event_id == chain[0].id
        assert verify_chain(session, ids[0], "newsletter", "sms")
        assert [e.action for e in history(session, ids[3])] == ["requested"]
        audit = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "consent.renewal_needed")).scalars().all()
        assert any('"consents":3' in d for d in audit)
        assert instance.audit.verify_chain(session).ok
    with instance.db.write() as session:  # nothing active any more: marking again finds no one
        assert marker.mark_for_renewal(session, ["newsletter"], notice_version=5, now=NOW) == 0
    # the person confirms again through double opt-in
    record(instance, ids[1], "requested")
    record(instance, ids[1], "confirmed")
    assert audience(instance) == [[ids[1]]]


def test_unconfirmed_requests_expire_after_the_configured_period(instance: Instance) -> None:
    from datetime import timedelta

    from ehrlich.consent.signup.expiry import expire_unconfirmed
    from ehrlich.consent.tasks import EXPIRE_TASK

    old, recent, active = (new_subject(instance, f"{n}@example.org")
                           for n in ("old", "recent", "active"))
    record(instance, old, "requested", now=NOW - timedelta(days=31))
    record(instance, recent, "requested", now=NOW - timedelta(days=1))
    record(instance, active, "granted", now=NOW - timedelta(days=90))
    expired = expire_unconfirmed(instance.db, instance.audit, older_than=timedelta(days=30),
                                 now=NOW, batch=1)
    assert expired == 1
    with instance.db.read() as session:
        assert [e.action for e in history(session, old)] == ["requested", "expired"]
        assert [e.action for e in history(session, recent)] == ["requested"]
    assert audience(instance) == [[active]]
    assert expire_unconfirmed(instance.db, instance.audit, older_than=timedelta(days=30),
                              now=NOW) == 0
    assert EXPIRE_TASK in instance.jobs.task_names
