"""Test data made through the services, shared by every test package: subjects (with
consent), staff in a role, published notices. Each takes the instance it writes to;
`make_staff` is the fixture form of `new_staff` (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest

from ehrlich.auth.guide import current_guide
from ehrlich.auth.models import StaffSession
from ehrlich.auth.passwords import Passwords
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput, RecordOutcome
from ehrlich.instance.service import Instance
from ehrlich.notices.example import example_notice_text
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW

# -- subjects, with consent -------------------------------------------------------------

TEXT = "Yes, send me the weekly newsletter by email. I can unsubscribe at any time."
NOTICE_HASH = "sha256:" + "ab" * 32
METHOD_FOR = {"requested": "form", "confirmed": "email-confirmation", "granted": "api",
              "withdrawn": "one-click-unsubscribe", "objected": "preference-centre",
              "expired": "system", "renewal-needed": "system"}


def new_subject(instance: Instance, email: str, **fields: Any) -> str:
    """A subject with this address (and any other `SubjectInput` fields); its id."""
    with instance.db.write() as session:
        return instance.subjects.create(session, SubjectInput(email=email, **fields),
                                        actor="test", now=NOW).subject.id


def consent_input(subject_id: str, action: str, **changes: Any) -> ConsentInput:
    """A newsletter-by-email consent event with the evidence its action needs."""
    fields: dict[str, Any] = {"subject_id": subject_id, "purpose": "newsletter",
                              "channel": "email", "action": action,
                              "method": METHOD_FOR[action]}
    if action in ("requested", "granted"):
        fields.update(notice_version=3, notice_hash=NOTICE_HASH, text_shown=TEXT,
                      form="https://shop.example/signup", language="de")
    fields.update(changes)
    return ConsentInput(**fields)


def record(instance: Instance, subject_id: str, action: str, *, now: Any = NOW,
           **changes: Any) -> RecordOutcome:
    """Record one consent event (see `consent_input`) in a transaction of its own."""
    with instance.db.write() as session:
        return record_consent(session, instance.audit,
                              consent_input(subject_id, action, **changes),
                              actor="test", now=now)


def subject_with_consent(instance: Instance, email: str, *actions: str,
                         **changes: Any) -> str:
    """A new subject whose consent went through `actions` (default: granted); its id."""
    subject_id = new_subject(instance, email)
    for action in actions or ("granted",):
        record(instance, subject_id, action, **changes)
    return subject_id


# -- staff in a role --------------------------------------------------------------------

PASSWORD = "violet-harbour-lantern-917"


@dataclass
class Staff:
    id: str
    email: str
    role: str
    password: str
    secret: str | None


class RememberedPasswords(Passwords):
    """The production hasher that hashes each password once per process: the stored value
    is a real argon2id hash with the production parameters (signing in verifies it at the
    production cost), only its salt is shared by the test accounts with that password.
    Hashing `PASSWORD` afresh for every test account was a tenth of a console test's time."""

    _known: ClassVar[dict[str, str]] = {}

    def hash(self, password: str) -> str:
        known = self._known.get(password)
        if known is None or self.needs_rehash(known):
            known = self._known[password] = super().hash(password)
        return known


REMEMBERED = RememberedPasswords()


def new_staff(instance: Instance, role: str = "owner", *, email: str | None = None,
              totp: bool = True, acknowledged: bool = True) -> Staff:
    """A staff account in `role`, with a second factor enrolled and the guide read unless
    told otherwise; its password is `PASSWORD`."""
    address = email or f"{role}-{len(role)}@example.org"
    users = instance.staff.users
    with instance.db.write() as session:
        hasher, users.passwords = users.passwords, REMEMBERED
        try:
            view, _ = users.add(session, email=address, role=role, actor="test",
                                actor_role=Role.OWNER, now=NOW, password=PASSWORD)
        finally:
            users.passwords = hasher
        secret = None
        if totp:
            token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL, now=NOW)
            row = instance.staff.sessions.row(session, token)
            assert isinstance(row, StaffSession)
            secret = instance.staff.users.begin_enrolment(session, view.id, row).secret
            earlier = NOW - timedelta(minutes=5)
            instance.staff.users.confirm_enrolment(session, view.id, row,
                                                   code_at(secret, earlier), now=earlier)
            instance.staff.sessions.end(session, token)
        if acknowledged:
            instance.staff.users.acknowledge_guide(
                session, view.id, current_guide(instance.settings.data_dir).hash, now=NOW)
    return Staff(view.id, address, role, PASSWORD, secret)


@pytest.fixture
def make_staff(instance: Instance) -> Callable[..., Staff]:
    """`new_staff` on the test's instance."""
    def make(role: str = "owner", **options: Any) -> Staff:
        return new_staff(instance, role, **options)

    return make


# -- published notices ------------------------------------------------------------------


def publish_notice(instance: Instance, text: str | None = None, *,
                   now: datetime = NOW) -> int:
    """Publish a notice (the example one unless `text` is given); its version number."""
    with instance.db.write() as session:
        return instance.notices.publish(session, text or example_notice_text(),
                                        file="notice.yaml", publisher="test",
                                        now=now).version.number
