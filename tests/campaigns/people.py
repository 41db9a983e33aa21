"""Audiences for campaign tests, made in bulk through the services."""

from __future__ import annotations

from ehrlich.campaigns.schemas import CampaignInput
from ehrlich.campaigns.service import CampaignsService
from ehrlich.consent.ledger.bulk import first_grants, record_first_grants
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.factories import consent_input


def people(instance: Instance, count: int, *, consented: set[int] | None = None,
           start: int = 0) -> dict[str, int]:
    """`count` subjects person{i}@example{i % 7}.org; those in `consented` (default: all)
    get a granted newsletter-by-email consent. Subject id → i."""
    rows = [SubjectInput(email=f"person{i}@example{i % 7}.org", name=f"Person {i}",
                         source="test") for i in range(start, start + count)]
    with instance.db.write() as session:
        placed = instance.subjects.place_many(session, rows, actor="test", now=NOW)
        ids = {p.subject_id: start + n for n, p in enumerate(placed)}
        chosen = [sid for sid, i in ids.items() if consented is None or i in consented]
        grants = first_grants(consent_input("template", "granted"),
                              [(sid, {}) for sid in chosen], actor="test", now=NOW)
        record_first_grants(session, instance.audit, grants, now=NOW)
    return ids


def address(i: int) -> str:
    return f"person{i}@example{i % 7}.org"


def draft(instance: Instance, **changes: str) -> str:
    fields = {"name": "Autumn", "purpose": "newsletter", "subject": "Autumn news for {{ name }}",
              "text_body": "Hello {{ name }},\nnew in the shop.\n\nUnsubscribe: "
                           "{{ unsubscribe_url }}\n",
              "html_body": "<p>Hello {{ name }}, new in the shop.</p>"
                           "<p><a href=\"{{ preferences_url }}\">Preferences</a></p>"}
    fields.update(changes)
    return instance.service(CampaignsService).create(
        instance.db, CampaignInput(**fields), actor="test", now=NOW).id
