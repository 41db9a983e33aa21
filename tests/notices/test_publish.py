"""Publishing on SQLite and PostgreSQL: immutable versions, refusals, renewal marking."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ehrlich.audit.models import AuditEntry
from ehrlich.errors import Conflict, InvalidInput, NotFound
from ehrlich.instance.models import InstanceMeta
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeInvalid, NoticeNotPublished
from ehrlich.notices.interfaces import NullRenewalMarker, RenewalMarker
from ehrlich.notices.models import NoticeVersion
from ehrlich.notices.service import NoticesService, PublishOutcome, canonical_json
from tests.conftest import NOW
from tests.notices.conftest import variant

CONSENTS = {"newsletter": 3, "repair_sms": 2}
"""People holding a current consent per purpose, as the consent ledger would know."""


class RecordingMarker:
    """Marks in the caller's transaction (a row per purpose) and remembers every call."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[list[str], int]] = []
        self.fail = fail

    def mark_for_renewal(self, session: Session, purpose_ids: Sequence[str], *,
                         notice_version: int, now: datetime) -> int:
        self.calls.append((list(purpose_ids), notice_version))
        for purpose in purpose_ids:
            session.add(InstanceMeta(key=f"renewal:{notice_version}:{purpose}",
                                     value=str(CONSENTS.get(purpose, 0)).encode()))
        session.flush()
        if self.fail:
            raise RuntimeError("consent ledger unavailable")
        return sum(CONSENTS.get(p, 0) for p in purpose_ids)


def _service(instance: Instance, marker: RenewalMarker) -> NoticesService:
    return NoticesService(instance.audit, marker)


def _publish(instance: Instance, service: NoticesService, text: str, *,
             now: datetime = NOW) -> PublishOutcome:
    with instance.db.write() as session:
        return service.publish(session, text, file="n.yaml", publisher="jana", now=now)


def _counts(instance: Instance) -> tuple[int, int]:
    with instance.db.read() as session:
        versions = session.execute(select(func.count()).select_from(NoticeVersion)).scalar_one()
        audits = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return versions, audits


def _marks(instance: Instance) -> dict[str, str]:
    with instance.db.read() as session:
        rows = session.execute(select(InstanceMeta).where(
            InstanceMeta.key.startswith("renewal:"))).scalars()
        return {r.key: r.value.decode() for r in rows}


def test_first_publication(instance: Instance, example: str) -> None:
    outcome = _publish(instance, instance.notices, example)
    assert outcome.created
    assert outcome.version.number == 1
    assert outcome.version.publisher == "jana"
    assert outcome.version.published_at == NOW
    assert outcome.widened == []
    assert outcome.diff[:2] == ["--- version 0", "+++ version 1"]
    with instance.db.read() as session:
        current = instance.notices.current(session)
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars(
            ).first()
        assert instance.audit.verify_chain(session).ok
    expected = hashlib.sha256(canonical_json(current.notice).encode()).hexdigest()
    assert current.info.sha256 == outcome.version.sha256 == expected
    assert current.source == example
    assert entry is not None
    assert (entry.action, entry.target, entry.actor) == ("notice.publish", "notice:v1", "jana")
    assert expected in entry.detail


def test_same_content_twice_is_no_new_version(instance: Instance, example: str) -> None:
    first = _publish(instance, instance.notices, example)
    before = _counts(instance)
    again = _publish(instance, instance.notices, example, now=NOW + timedelta(days=1))
    reformatted = _publish(instance, instance.notices,
                           "# a new comment\n" + example.replace("[en, de]", "[ en , de ]"))
    assert not again.created
    assert not reformatted.created
    assert again.version == reformatted.version == first.version
    assert _counts(instance) == before == (1, before[1])


def test_lint_error_changes_nothing_and_says_why(instance: Instance, example: str) -> None:
    _publish(instance, instance.notices, example)
    before = _counts(instance)
    bad = variant(example, ("default: unticked", "default: ticked"),
                  ("duration: 2 years", "duration: 5 years"))
    with pytest.raises(NoticeInvalid) as caught:
        _publish(instance, instance.notices, bad)
    assert [f.rule for f in caught.value.findings] == ["preselected-default"]
    assert "pre-selected" in caught.value.findings[0].message
    assert _counts(instance) == before
    with instance.db.read() as session:
        assert instance.notices.current(session).info.number == 1


def test_schema_error_changes_nothing(instance: Instance, example: str) -> None:
    with pytest.raises(NoticeInvalid, match="not a concrete duration"):
        _publish(instance, instance.notices, variant(example, ("90 days", "forever")))
    assert _counts(instance)[0] == 0


def test_widened_purposes_are_marked_exactly(instance: Instance, example: str) -> None:
    marker = RecordingMarker()
    service = _service(instance, marker)
    _publish(instance, service, example)
    assert marker.calls == []  # the first version widens nothing
    wider = variant(example,
                    ("recipients: [mailer]", "recipients: [mailer, carrier]"),   # newsletter
                    ("data_categories: [phone]", "data_categories: [phone, name]"),  # repair_sms
                    ("recipients: [tax_advisor]", "recipients: []"))        # bookkeeping narrows
    outcome = _publish(instance, service, wider, now=NOW + timedelta(hours=1))
    assert outcome.version.number == 2
    assert marker.calls == [(["newsletter", "repair_sms"], 2)]
    assert outcome.renewals == 5
    assert [w.purpose_id for w in outcome.widened] == ["newsletter", "repair_sms"]
    assert _marks(instance) == {"renewal:2:newsletter": "3", "renewal:2:repair_sms": "2"}
    with instance.db.read() as session:
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars(
            ).first()
    assert entry is not None
    assert '"renewals":5' in entry.detail
    assert '"widened":["newsletter","repair_sms"]' in entry.detail


def test_narrowing_marks_nothing(instance: Instance, example: str) -> None:
    marker = RecordingMarker()
    service = _service(instance, marker)
    _publish(instance, service, example)
    shorter = variant(example, ("duration: 2 years", "duration: 1 year"))
    outcome = _publish(instance, service, shorter)
    assert outcome.created
    assert outcome.widened == []
    assert outcome.renewals == 0
    assert marker.calls == []
    assert _marks(instance) == {}


def test_marker_failure_rolls_the_publication_back(instance: Instance, example: str) -> None:
    _publish(instance, instance.notices, example)
    before = _counts(instance)
    service = _service(instance, RecordingMarker(fail=True))
    with pytest.raises(RuntimeError):
        _publish(instance, service, variant(example, ("duration: 90 days", "duration: 1 year")))
    assert _counts(instance) == before
    assert _marks(instance) == {}


def test_versions_are_immutable_and_readable(instance: Instance, example: str) -> None:
    _publish(instance, instance.notices, example)
    _publish(instance, instance.notices, variant(example, ("90 days", "60 days")))
    with instance.db.read() as session:
        assert [v.number for v in instance.notices.versions(session)] == [1, 2]
        assert instance.notices.version(session, 1).notice.purposes[3].retention.duration == \
            "90 days"
        assert instance.notices.current(session).info.number == 2
        with pytest.raises(NotFound):
            instance.notices.version(session, 3)
    with instance.db.write() as session:
        row = session.get(NoticeVersion, 1)
        assert row is not None
        row.publisher = "mallory"
        with pytest.raises(Conflict, match="cannot change"):
            session.flush()
        session.rollback()
    with instance.db.write() as session:
        row = session.get(NoticeVersion, 2)
        assert row is not None
        session.delete(row)
        with pytest.raises(Conflict, match="cannot be deleted"):
            session.flush()
        session.rollback()
    with instance.db.read() as session:
        assert instance.notices.version(session, 1).info.publisher == "jana"
        assert [v.number for v in instance.notices.versions(session)] == [1, 2]


def test_nothing_published(instance: Instance) -> None:
    with instance.db.read() as session, pytest.raises(NoticeNotPublished):
        instance.notices.current(session)


def test_null_marker_marks_nothing(instance: Instance) -> None:
    with instance.db.write() as session:
        assert NullRenewalMarker().mark_for_renewal(session, ["a"], notice_version=1,
                                                    now=NOW) == 0


def test_consent_offer_binds_text_to_the_version(instance: Instance, example: str) -> None:
    first = _publish(instance, instance.notices, example)
    changed = example.replace("Ja, schicken Sie mir eine SMS", "Ja, senden Sie mir eine SMS")
    _publish(instance, instance.notices, changed)
    with instance.db.read() as session:
        offer = instance.notices.consent_offer(session, "repair_sms", "de")
        old = instance.notices.consent_offer(session, "repair_sms", "de", version=1)
        english = instance.notices.consent_offer(session, "newsletter", "en")
        with pytest.raises(InvalidInput, match="based on contract"):
            instance.notices.consent_offer(session, "orders", "en")
        with pytest.raises(InvalidInput, match="no consent text in 'fr'"):
            instance.notices.consent_offer(session, "newsletter", "fr")
        with pytest.raises(NotFound, match="no purpose 'lottery'"):
            instance.notices.consent_offer(session, "lottery", "en")
    assert (offer.notice_version, offer.channel, offer.language) == (2, "sms", "de")
    assert offer.text == "Ja, senden Sie mir eine SMS, wenn mein Rad fertig ist."
    assert old.text == "Ja, schicken Sie mir eine SMS, wenn mein Rad fertig ist."
    assert old.notice_hash == f"sha256:{first.version.sha256}"
    assert offer.notice_hash != old.notice_hash
    assert english.recipients == ("mailer",)
    assert english.data_categories == ("email", "name")
