"""Publishing a notice that widens a purpose marks exactly its active consents for renewal.

This crosses two domains through their real parts: `NoticesService.publish` with the
consent ledger's renewal marker that `Instance` wires in.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ehrlich.consent.models import ConsentState
from ehrlich.instance.service import Instance
from ehrlich.notices.example import example_notice_text
from tests.conftest import NOW
from tests.consent.helpers import new_subject, record


def _publish(instance: Instance, text: str, minutes: int) -> tuple[int, list[str], int]:
    with instance.db.write() as session:
        outcome = instance.notices.publish(session, text, file="notice.yaml",
                                           publisher="owner", now=NOW + timedelta(minutes=minutes))
    return outcome.version.number, [w.purpose_id for w in outcome.widened], outcome.renewals


def _states(instance: Instance) -> dict[tuple[str, str], str]:
    with instance.db.read() as session:
        return {(s.subject_id, s.purpose): s.state
                for s in session.execute(select(ConsentState)).scalars()}


def test_widened_purpose_marks_exactly_its_active_consents(instance: Instance) -> None:
    text = example_notice_text()
    assert _publish(instance, text, 0)[0] == 1
    a, b, c, d = (new_subject(instance, f"{n}@example.org") for n in "abcd")
    record(instance, a, "granted", purpose="newsletter")
    record(instance, b, "granted", purpose="newsletter")
    record(instance, b, "withdrawn", purpose="newsletter")  # no longer active: untouched
    record(instance, c, "granted", purpose="repair_sms", channel="email")
    record(instance, d, "requested", purpose="newsletter")  # pending, not active
    before = _states(instance)

    longer = text.replace("      duration: 2 years\n", "      duration: 3 years\n", 1)
    assert longer != text
    number, widened, renewals = _publish(instance, longer, 1)
    assert (number, widened, renewals) == (2, ["newsletter"], 1)

    after = _states(instance)
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed == {(a, "newsletter")}
    assert after[(a, "newsletter")] == "renewal-needed"

    # publishing the same content again changes nothing and marks nobody
    assert _publish(instance, longer, 2) == (2, [], 0)
    assert _states(instance) == after
