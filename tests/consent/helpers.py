"""Test data for the consent ledger."""

from __future__ import annotations

from typing import Any

from ehrlich.consent.schemas import ConsentInput, RecordOutcome
from ehrlich.consent.service import record_consent
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW

TEXT = "Yes, send me the weekly newsletter by email. I can unsubscribe at any time."
NOTICE_HASH = "sha256:" + "ab" * 32


def new_subject(instance: Instance, email: str) -> str:
    with instance.db.write() as session:
        return instance.subjects.create(session, SubjectInput(email=email), actor="test",
                                        now=NOW).subject.id


def consent_input(subject_id: str, action: str, **changes: Any) -> ConsentInput:
    method = {"requested": "form", "confirmed": "email-confirmation", "granted": "api",
              "withdrawn": "one-click-unsubscribe", "objected": "preference-centre",
              "expired": "system", "renewal-needed": "system"}[action]
    fields: dict[str, Any] = {"subject_id": subject_id, "purpose": "newsletter",
                              "channel": "email", "action": action, "method": method}
    if action in ("requested", "granted"):
        fields.update(notice_version=3, notice_hash=NOTICE_HASH, text_shown=TEXT,
                      form="https://shop.example/signup", language="de")
    fields.update(changes)
    return ConsentInput(**fields)


def record(instance: Instance, subject_id: str, action: str, *, now: Any = NOW,
           **changes: Any) -> RecordOutcome:
    with instance.db.write() as session:
        return record_consent(session, instance.audit, consent_input(subject_id, action,
                                                                     **changes),
                              actor="test", now=now)
