"""Publishing a wider notice against the real consent ledger, on SQLite and PostgreSQL.

Exactly the active consents of the widened purposes become `renewal-needed`;
consents of other purposes, withdrawn ones and pending requests stay as they are.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ehrlich.consent.models import ConsentState
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.notices.conftest import variant


def _states(instance: Instance) -> dict[tuple[str, str, str], str]:
    with instance.db.read() as session:
        rows = session.execute(select(ConsentState)).scalars()
        return {(r.subject_id, r.purpose, r.channel): r.state for r in rows}


def test_widened_purpose_marks_exactly_its_active_consents(instance: Instance,
                                                           example: str) -> None:
    with instance.db.write() as session:
        instance.notices.publish(session, example, file="n.yaml", publisher="jana", now=NOW)
    ids = {n: new_subject(instance, f"{n}@example.org") for n in "abcdef"}
    for name in "abc":
        record(instance, ids[name], "granted")                         # newsletter, email
    record(instance, ids["d"], "granted")
    record(instance, ids["d"], "withdrawn")                            # withdrawn: untouched
    record(instance, ids["e"], "requested")                            # pending: untouched
    record(instance, ids["a"], "granted", purpose="repair_sms", channel="sms")
    record(instance, ids["f"], "granted", purpose="repair_sms", channel="sms")
    before = _states(instance)

    wider = variant(example, ("recipients: [mailer]", "recipients: [mailer, carrier]"))
    with instance.db.write() as session:
        outcome = instance.notices.publish(session, wider, file="n.yaml", publisher="jana",
                                           now=NOW + timedelta(days=1))
    assert [w.purpose_id for w in outcome.widened] == ["newsletter"]
    assert outcome.renewals == 3
    after = _states(instance)
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {(ids[n], "newsletter", "email") for n in "abc"}
    assert {after[key] for key in changed} == {"renewal-needed"}
    assert after[(ids["a"], "repair_sms", "sms")] == "active"
    assert after[(ids["d"], "newsletter", "email")] == before[(ids["d"], "newsletter", "email")]

    # Publishing the same wider notice again changes nothing and marks nobody.
    with instance.db.write() as session:
        again = instance.notices.publish(session, wider, file="n.yaml", publisher="jana",
                                         now=NOW + timedelta(days=2))
    assert not again.created
    assert again.renewals == 0
    assert _states(instance) == after
