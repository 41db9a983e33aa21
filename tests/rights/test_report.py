"""The access report holds all of one person's data and nothing of anyone else's, also
when many people share names, attribute values, purposes and consent texts."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from ehrlich.consent.ledger.service import history
from ehrlich.domains import DOMAINS, open_instance
from ehrlich.instance.service import Instance
from ehrlich.registry import Registry
from ehrlich.rights.report import report_csv, report_json
from ehrlich.rights.schemas import ReportSection, ReportSectionSource
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.instances import InstanceTemplates

SHARED = {"name": "Kim Meyer", "attributes": {"city": "Berlin", "tier": "gold"}}


def _crowd(instance: Instance, count: int) -> list[str]:
    """People who look alike: the same name, attributes, purpose and consent text."""
    ids = []
    for n in range(count):
        sid = new_subject(instance, f"kim{n}@example.org", phone=f"+4930555{n:04d}", **SHARED)
        record(instance, sid, "requested")
        record(instance, sid, "confirmed")
        if n % 3 == 0:
            record(instance, sid, "withdrawn")
        ids.append(sid)
    return ids


def test_a_report_holds_the_person_and_nobody_else(published: Instance,
                                                   rights: RightsService) -> None:
    crowd = _crowd(published, 12)
    target = crowd[6]
    made = rights.report(published.db, target, actor="test", language="en", now=NOW)
    with published.db.read() as session:
        own = history(session, target)
        others = {e.hash for sid in crowd if sid != target for e in history(session, sid)}
    assert made.subject_id == target
    assert (made.email, made.phone, made.name) == ("kim6@example.org", "+49305550006",
                                                   "Kim Meyer")
    assert made.attributes == SHARED["attributes"]
    assert [c.event_hash for c in made.consents] == [e.hash for e in own]
    assert [c.action for c in made.consents] == ["requested", "confirmed", "withdrawn"]
    assert [p.id for p in made.purposes] == ["newsletter"]
    for text in (report_json(made), report_csv(made)):
        assert target in text
        for sid in crowd:
            if sid != target:
                assert sid not in text
        for n in range(12):
            if n != 6:
                assert f"kim{n}@" not in text
                assert f"+4930555{n:04d}" not in text
        assert not any(h in text for h in others)
    body = json.loads(report_json(made))
    assert body["subject_id"] == target
    assert len(body["consents"]) == 3


class DisclosureLog:
    """Stands in for another domain's disclosure log: it only implements the interface."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def report_section(self, session: Session, subject_id: str, *,
                       language: str) -> ReportSection:
        self.asked.append(subject_id)
        return ReportSection("stand-in", "Disclosures", ("recipient", "date"),
                             [("Spree Kurier GmbH", "2026-11-01")])


def install_disclosures(registry: Registry) -> None:
    """A domain registered after rights, the way the disclosure log would be."""
    registry.add_service(DisclosureLog, lambda services: DisclosureLog())


def test_other_domains_add_sections_through_the_interface(
        settings: Settings, instance_templates: InstanceTemplates) -> None:
    instance_templates.install(settings)
    instance = open_instance(settings, domains=(*DOMAINS, install_disclosures))
    try:
        log = instance.service(DisclosureLog)
        assert isinstance(log, ReportSectionSource)
        ada = new_subject(instance, "ada@example.org")
        made = instance.service(RightsService).report(instance.db, ada, actor="test",
                                                      language="en", now=NOW)
    finally:
        instance.close()
    assert log.asked == [ada]
    [stand_in] = [s for s in made.sections if s.key == "stand-in"]
    assert stand_in.rows == [("Spree Kurier GmbH", "2026-11-01")]
    assert "Spree Kurier GmbH" in report_csv(made)
