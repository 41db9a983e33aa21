"""The copies register: a copy is recorded with who, what, why, where and until when;
it turns overdue after its expiry; "destroyed" records who confirmed it; each step is in the
audit chain; who may see and confirm what, by role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ehrlich.auth.roles import Role
from ehrlich.errors import InvalidInput, NotAllowed
from ehrlich.instance.service import Instance
from ehrlich.posture.schemas import PostureContext, Status
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.sharing.errors import CopyAlreadyDestroyed, CopyNotFound
from ehrlich.sharing.posture import overdue_copies
from ehrlich.sharing.schemas import CopyFilters
from tests.conftest import NOW
from tests.factories import new_subject
from tests.sharing.helpers import OPERATOR, audit, copy_request


def _issue(instance: Instance, holder: str = "staff:ann", **changes: object) -> str:
    with instance.db.write() as session:
        return instance.service(CopiesService).issue(
            session, copy_request(**changes), holder=holder, now=NOW).id


def test_a_copy_records_who_what_why_where_and_expiry(instance: Instance) -> None:
    copy_id = _issue(instance, fields=("email", "name"))
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, copy_id, OPERATOR, now=NOW)
    assert (view.holder, view.what, view.fields, view.format) == (
        "staff:ann", "someone", ("email", "name"), "json")
    assert view.reason == "December mailing from the mail tool"
    assert view.destination == "Upload to the mail tool"
    assert view.expires_at == NOW + timedelta(days=30)  # the default setting
    assert (view.status, view.rows, view.digest) == ("open", None, None)
    [entry] = audit(instance, "copy.issued")
    assert entry.target == copy_id
    assert entry.actor == "staff:ann"


@pytest.mark.parametrize(("field", "changes"), [
    ("reason", {"reason": "because"}),
    ("reason", {"reason": "x" * 301}),
    ("destination", {"destination": "  "}),
    ("expires", {"expires": NOW.date()}),
    ("expires", {"expires": NOW.date() + timedelta(days=31)}),
])
def test_bad_input_names_the_field_and_records_nothing(
        instance: Instance, field: str, changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as raised:
        _issue(instance, **changes)
    assert [p.field for p in raised.value.problems] == [field]
    assert audit(instance, "copy.issued") == []
    with instance.db.read() as session:
        assert instance.service(CopiesService).page(session, CopyFilters(), OPERATOR,
                                                     now=NOW)[0] == []


def test_a_stated_expiry_ends_with_that_day(instance: Instance) -> None:
    copy_id = _issue(instance, expires=date(2026, 12, 5))
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, copy_id, OPERATOR, now=NOW)
    assert view.expires_at.isoformat() == "2026-12-05T23:59:59+00:00"


def test_overdue_after_expiry_until_destroyed(instance: Instance) -> None:
    copies = instance.service(CopiesService)
    copy_id = _issue(instance)
    later = NOW + timedelta(days=31)
    with instance.db.read() as session:
        assert copies.overdue(session, now=NOW) == 0
        assert copies.overdue(session, now=later) == 1
        [row], _ = copies.page(session, CopyFilters(status="overdue"), OPERATOR, now=later)
    assert row.id == copy_id
    ctx = PostureContext(instance, later)
    finding = overdue_copies.run(ctx)
    assert finding.status == Status.WARN
    assert "1 copy is past its expiry" in finding.detail
    with instance.db.write() as session:
        view = copies.destroy(session, copy_id, Caller("staff:boss", Role.ADMIN),
                              note="deleted from laptop", now=later)
    assert (view.status, view.destroyed_by, view.destroyed_at) == (
        "destroyed", "staff:boss", later)
    [entry] = audit(instance, "copy.destroyed")
    assert entry.actor == "staff:boss"
    assert entry.target == copy_id
    assert overdue_copies.run(ctx).status == Status.PASS
    with instance.db.write() as session, pytest.raises(CopyAlreadyDestroyed):
        copies.destroy(session, copy_id, OPERATOR, now=later)


# Who sees the register and may confirm someone else's copy destroyed; everyone may see
# and confirm their own.
SEES_ALL = {Role.OWNER, Role.ADMIN, Role.AUDITOR}
DESTROYS_ANY = {Role.OWNER, Role.ADMIN}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_and_destroys_what_it_may(instance: Instance, role: Role) -> None:
    copies = instance.service(CopiesService)
    own, other = _issue(instance, "staff:me"), _issue(instance, "staff:other")
    me = Caller("staff:me", role)
    with instance.db.read() as session:
        seen = {c.id for c in copies.page(session, CopyFilters(), me, now=NOW)[0]}
        assert seen == ({own, other} if role in SEES_ALL else {own})
        if role not in SEES_ALL:
            with pytest.raises(CopyNotFound):
                copies.get(session, other, me, now=NOW)
    with instance.db.write() as session:
        copies.destroy(session, own, me, now=NOW)
    with instance.db.write() as session:
        if role in DESTROYS_ANY:
            copies.destroy(session, other, me, now=NOW)
        else:
            with pytest.raises(CopyNotFound if role not in SEES_ALL else NotAllowed):
                copies.destroy(session, other, me, now=NOW)
    assert len(audit(instance, "copy.destroyed")) == (2 if role in DESTROYS_ANY else 1)


def test_erasing_the_person_makes_their_open_export_due_at_once(instance: Instance) -> None:
    subject = new_subject(instance, "ada@example.org")
    theirs = _issue(instance, kind="contact", what=subject)
    audience = _issue(instance, kind="audience", what="newsletter/email")
    erased_at = NOW + timedelta(days=2)
    instance.subjects.erase(instance.db, subject, actor="test", now=erased_at)
    copies = instance.service(CopiesService)
    with instance.db.read() as session:
        assert copies.get(session, theirs, OPERATOR, now=erased_at).status == "overdue"
        assert copies.get(session, audience, OPERATOR, now=erased_at).status == "open"
