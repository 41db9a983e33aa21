"""The console's Audiences and Copies pages: each action's permission by role, the export
form's errors next to its fields, the streamed file, "mark destroyed", the overview's line
about overdue copies, and German from the catalogue."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ehrlich.admin.deps import guide_of
from ehrlich.auth.roles import Role
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import CopiesService
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.factories import Staff, publish_notice
from tests.sharing.helpers import OPERATOR, REASON, WHERE, audit, copy_request, person

Maker = Callable[..., Staff]
EXPORT = {"audience": "newsletter/email", "format": "csv", "reason": REASON,
          "destination": WHERE, "expires": ""}

# What each role may do; everything else answers 403 (or 404 for someone else's copy that
# the role may not see).
MAY: dict[Role, set[str]] = {
    Role.OWNER: {"audiences", "export", "copies", "own", "other", "destroy_own",
                 "destroy_other"},
    Role.ADMIN: {"audiences", "export", "copies", "own", "other", "destroy_own",
                 "destroy_other"},
    Role.MARKETER: {"audiences", "export", "copies", "own", "destroy_own"},
    Role.SUPPORT: {"audiences", "copies", "own", "destroy_own"},
    Role.AUDITOR: {"copies", "own", "other", "destroy_own"},
}
ACTIONS = sorted(MAY[Role.OWNER])


def _staff(instance: Instance, maker: Maker, role: str) -> Staff:
    """A staff member who has read the guide as it reads with the published notice."""
    staff = maker(role)
    with instance.db.write() as session:
        instance.staff.users.acknowledge_guide(session, staff.id, guide_of(instance).hash,
                                               now=NOW)
    return staff


def _csrf(console: TestClient) -> str:  # noqa: F811
    return form_value(console.get("/admin/account").text, "csrf")


def _copy(instance: Instance, holder: str, *, days_ago: int = 0) -> str:
    with instance.db.write() as session:
        return instance.service(CopiesService).issue(
            session, copy_request(), holder=holder, now=NOW - timedelta(days=days_ago)).id


def _act(console: TestClient, action: str, own: str, other: str, csrf: str  # noqa: F811
         ) -> Any:
    calls: dict[str, Callable[[], Any]] = {
        "audiences": lambda: console.get("/admin/audiences"),
        "export": lambda: console.post("/admin/audiences/export", data=EXPORT | {"csrf": csrf}),
        "copies": lambda: console.get("/admin/copies"),
        "own": lambda: console.get(f"/admin/copies/{own}"),
        "other": lambda: console.get(f"/admin/copies/{other}"),
        "destroy_own": lambda: console.post(f"/admin/copies/{own}/destroy",
                                            data={"csrf": csrf}, follow_redirects=False),
        "destroy_other": lambda: console.post(f"/admin/copies/{other}/destroy",
                                              data={"csrf": csrf}, follow_redirects=False),
    }
    return calls[action]()


@pytest.mark.role_matrix(lambda role, action, **_: action in MAY[role])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_its_sharing_actions(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock, role: Role, action: str) -> None:  # noqa: F811
    publish_notice(instance)
    person(instance, "ada@example.org")
    staff = _staff(instance, make_staff, role.value)
    own, other = _copy(instance, f"staff:{staff.id}"), _copy(instance, "staff:someone-else")
    open_session(console, staff, clock.now)
    response = _act(console, action, own, other, _csrf(console))
    if action in MAY[role]:
        assert response.status_code in (200, 303), response.text
        if response.status_code == 303:
            assert response.headers["location"] == (
                f"/admin/copies/{own if action == 'destroy_own' else other}?done=destroyed")
    else:
        sees_other = action.endswith("other") and "other" in MAY[role]
        assert response.status_code == (403 if sees_other or not action.endswith("other")
                                        else 404)
        assert 'class="admin"' in response.text
    issued = len(audit(instance, "copy.issued"))
    assert issued == 3 if action == "export" and action in MAY[role] else issued == 2
    destroyed = len(audit(instance, "copy.destroyed"))
    assert destroyed == (1 if action.startswith("destroy") and action in MAY[role] else 0)


def test_the_export_form_keeps_input_and_shows_errors_next_to_fields(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    person(instance, "ada@example.org")
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    page = console.get("/admin/audiences")
    assert 'id="audiences"' in page.text
    assert "newsletter" in page.text
    csrf = _csrf(console)
    bad = console.post("/admin/audiences/export", data=EXPORT | {
        "reason": "why", "destination": "", "expires": "2027-13-01", "csrf": csrf})
    assert 'id="expires-error"' in bad.text
    assert bad.status_code == 422
    for field in ("reason", "destination"):
        assert f'id="{field}-error"' in bad.text
    assert 'value="why"' in bad.text
    assert audit(instance, "copy.issued") == []
    forged = console.post("/admin/audiences/export", data=EXPORT | {"csrf": "forged"})
    assert forged.status_code == 403
    assert audit(instance, "copy.issued") == []
    got = console.post("/admin/audiences/export", data=EXPORT | {"csrf": csrf})
    assert got.status_code == 200
    assert got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"] == (
        'attachment; filename="audience-newsletter-email-20261129.csv"')
    [row] = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"), newline="")))
    assert row["email"] == "ada@example.org"
    copy_id = got.headers["x-ehrlich-copy"]
    mine = console.get("/admin/copies").text
    assert f"/admin/copies/{copy_id}" in mine
    assert "newsletter/email" in mine


def test_mark_destroyed_records_who_confirmed_it(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    copy_id = _copy(instance, "staff:someone-else", days_ago=31)
    admin = make_staff("admin")
    open_session(console, admin, clock.now)
    overdue = console.get("/admin/copies?status=overdue").text
    assert f"/admin/copies/{copy_id}" in overdue
    assert console.get("/admin/copies?status=open").text.count("/admin/copies/0") == 0
    page = console.get(f"/admin/copies/{copy_id}").text
    assert "Mark destroyed" in page
    done = console.post(f"/admin/copies/{copy_id}/destroy", data={
        "note": "deleted from the shared drive", "csrf": _csrf(console)})
    assert done.status_code == 200
    assert "recorded as destroyed" in done.text
    # the staff member by their email, the id kept in the title; an unknown one as it is
    admin_shown = admin.email.replace("@", "@<wbr>")  # may break after its @
    assert f'<span class="actor" title="staff:{admin.id}">{admin_shown}</span>' in done.text
    assert '<dd class="mono">staff:someone-else</dd>' in done.text
    mine = _copy(instance, f"staff:{admin.id}")
    listed = console.get("/admin/copies").text
    assert f'<td class="mono"><span class="actor" title="staff:{admin.id}">{admin_shown}' in listed
    assert '<td class="mono">staff:someone-else</td>' in listed
    assert admin.email in console.get(f"/admin/copies/{mine}").text
    assert "deleted from the shared drive" in done.text
    assert "Mark destroyed</button>" not in done.text
    again = console.post(f"/admin/copies/{copy_id}/destroy", data={"csrf": _csrf(console)})
    assert again.status_code == 409
    assert len(audit(instance, "copy.destroyed")) == 1
    with instance.db.read() as session:
        view = instance.service(CopiesService).get(session, copy_id, OPERATOR, now=NOW)
    assert view.destroyed_by == f"staff:{admin.id}"
    assert view.destroyed_at == NOW


@pytest.mark.parametrize(("role", "shown"), [("owner", True), ("auditor", True),
                                             ("marketer", False)])
def test_the_overview_shows_overdue_copies_to_those_who_keep_the_register(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock, role: str, shown: bool) -> None:  # noqa: F811
    _copy(instance, "staff:someone-else")
    open_session(console, make_staff(role), clock.now)
    assert 'id="overdue-copies"' not in console.get("/admin").text
    _copy(instance, "staff:someone-else", days_ago=31)
    overview = console.get("/admin").text
    assert ('id="overdue-copies"' in overview) is shown
    if shown:
        assert "1 exported copy is past its expiry" in overview


@pytest.mark.parametrize(("path", "german"), [
    ("/admin/audiences", "Wer jetzt kontaktiert werden darf"),
    ("/admin/audiences", "<td>E-Mail</td>"),  # the channel, not its id
    ("/admin/copies", "Nur meine Kopien"),
    ("/admin/tokens", "Personen lesen und suchen (entschlüsselt personenbezogene Daten)"),
])
def test_sharing_pages_speak_german_from_the_catalogue(
        instance: Instance, path: str, german: str, console: TestClient,  # noqa: F811
        make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    open_session(console, _staff(instance, make_staff, "owner"), clock.now)
    page = console.get(path + "?lang=de")
    assert page.status_code == 200
    assert german in page.text
