"""Every role against every staff operation that touches personal data, in the service
layer; revealing data needs a reason, which is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.auth.roles import MATRIX, Permission, Role, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.auth.staff_subjects import StaffSubjects
from ehrlich.errors import InvalidInput, NotAllowed
from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput
from tests.conftest import NOW

REASON = "customer asked by phone to check their address"
OPERATIONS = ["create", "create_many", "get", "find", "rectify", "erase"]
EXPECTED: dict[Role, set[str]] = {
    Role.OWNER: set(OPERATIONS),
    Role.ADMIN: set(OPERATIONS),
    Role.SUPPORT: {"create", "get", "find", "rectify"},
    Role.MARKETER: {"create_many"},
    Role.AUDITOR: set(),
}


def _staff(instance: Instance, role: Role) -> StaffSubjects:
    active = ActiveSession("t", f"user-{role.value}", "x@example.org", role.value, "full",
                           NOW, None)
    return instance.staff.subjects_for(active)


def _run(instance: Instance, staff: StaffSubjects, operation: str, subject_id: str,
         now: datetime) -> None:
    if operation == "erase":
        staff.erase(instance.db, subject_id, reason=REASON, now=now)
        return
    with instance.db.write() as session:
        if operation == "create":
            staff.create(session, SubjectInput(email="new@example.org"), now=now)
        elif operation == "create_many":
            staff.create_many(session, [SubjectInput(email="bulk@example.org")], now=now)
        elif operation == "get":
            staff.get(session, subject_id, reason=REASON, now=now)
        elif operation == "find":
            staff.find(session, email="anna@example.org", reason=REASON, now=now)
        elif operation == "rectify":
            staff.rectify(session, subject_id, SubjectChanges(name="Anna B."), now=now)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_its_operations(instance: Instance, role: Role) -> None:
    with instance.db.write() as session:
        subject = instance.subjects.create(session, SubjectInput(email="anna@example.org"),
                                           actor="test", now=NOW).subject
    staff = _staff(instance, role)
    done = set()
    for operation in OPERATIONS:
        try:
            _run(instance, staff, operation, subject.id, NOW)
        except NotAllowed:
            continue
        done.add(operation)
    assert done == EXPECTED[role]


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.ADMIN])
def test_reveal_needs_a_reason_and_records_it(instance: Instance, role: Role) -> None:
    with instance.db.write() as session:
        subject = instance.subjects.create(session, SubjectInput(email="anna@example.org"),
                                           actor="test", now=NOW).subject
    staff = _staff(instance, role)
    with pytest.raises(InvalidInput) as caught, instance.db.write() as session:
        staff.get(session, subject.id, reason="  ", now=NOW)
    assert caught.value.problems[0].field == "reason"
    with instance.db.write() as session:
        view = staff.get(session, subject.id, reason=REASON, now=NOW)
    assert view.email == "anna@example.org"
    with instance.db.read() as session:
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.action == "staff.reveal")).scalars().all()
    assert [(e.actor, e.target) for e in entries] == [(f"staff:user-{role.value}", subject.id)]
    assert REASON in entries[0].detail
    assert "anna@example.org" not in entries[0].detail


def test_matrix_is_the_single_source() -> None:
    assert MATRIX[Role.OWNER] == frozenset(Permission)
    assert allowed(Role.AUDITOR, Permission.AUDIT_READ)
    assert not allowed(Role.MARKETER, Permission.SUBJECTS_REVEAL)
    with pytest.raises(NotAllowed, match="marketer"):
        require(Role.MARKETER, Permission.SUBJECTS_REVEAL)


def test_staff_management_rules(instance: Instance,
                                make_staff: Callable[..., object]) -> None:
    make_staff("owner")
    with instance.db.write() as session:
        with pytest.raises(NotAllowed):
            instance.staff.users.add(session, email="a@example.org", role="owner",
                                     actor="t", actor_role=Role.ADMIN, now=NOW)
        with pytest.raises(NotAllowed):
            instance.staff.users.add(session, email="a@example.org", role="support",
                                     actor="t", actor_role=Role.SUPPORT, now=NOW)
        view, password = instance.staff.users.add(session, email="a@example.org",
                                                   role="support", actor="t",
                                                   actor_role=Role.ADMIN, now=NOW)
    assert password is not None
    assert view.role == "support"
