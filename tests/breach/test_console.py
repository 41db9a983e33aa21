"""The breach register in the console and on the command line: who may see and change it,
recording, counting the people from the audit log, the notice to the people, closing,
and the 72-hour clock on the overview."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ehrlich.admin.deps import guide_of
from ehrlich.auth.roles import Permission, Role, allowed
from ehrlich.breach.schemas import NewBreach
from ehrlich.breach.service import BreachService
from ehrlich.cli.main import app as cli_app
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    instance,
    mail,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.factories import Staff, new_subject, publish_notice

Maker = Callable[..., Staff]
ROLES = [r.value for r in Role]
HOUR = timedelta(hours=1)
ACTIONS: list[tuple[str, str, str, Permission]] = [
    ("list", "GET", "/admin/breaches", Permission.BREACHES_READ),
    ("show", "GET", "/admin/breaches/{id}", Permission.BREACHES_READ),
    ("new form", "GET", "/admin/breaches/new", Permission.BREACHES_MANAGE),
    ("record", "POST", "/admin/breaches", Permission.BREACHES_MANAGE),
    ("update", "POST", "/admin/breaches/{id}", Permission.BREACHES_MANAGE),
    ("scope", "POST", "/admin/breaches/{id}/scope", Permission.BREACHES_MANAGE),
    ("close", "POST", "/admin/breaches/{id}/close", Permission.BREACHES_MANAGE),
]


def _staff(instance: Instance, maker: Maker, role: str) -> Staff:  # noqa: F811
    """A staff member who has read the guide as it reads with the published notice."""
    staff = maker(role)
    with instance.db.write() as session:
        instance.staff.users.acknowledge_guide(session, staff.id, guide_of(instance).hash,
                                               now=NOW)
    return staff


def _open(instance: Instance, title: str = "Support laptop stolen", *,  # noqa: F811
          noticed: timedelta = 10 * HOUR) -> str:
    return instance.service(BreachService).open(instance.db, NewBreach(
        title=title, noticed_at=NOW - noticed), actor="test", now=NOW).id


@pytest.mark.role_matrix(lambda role, permission, **_: allowed(role, permission))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path", "permission"), ACTIONS,
                         ids=[a[0] for a in ACTIONS])
def test_each_console_action_is_allowed_only_to_roles_with_its_permission(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        role: str, name: str, method: str, path: str, permission: Permission) -> None:
    made = _open(instance)
    open_session(console, make_staff(role), clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    data = {"csrf": csrf, "title": "Laptop stolen from the car", "noticed_at":
            "2026-11-29T02:00", "measures": "Disk encrypted", "scope_actor": "staff:x",
            "scope_start": "2026-11-28T00:00", "scope_end": "2026-11-29T00:00"}
    url = path.format(id=made)
    response = (console.get(url) if method == "GET"
                else console.post(url, data=data, follow_redirects=False))
    after = instance.service(BreachService).get(instance.db, made)
    if allowed(role, permission):
        assert response.status_code in (200, 303, 409), response.text
    else:
        assert response.status_code == 403, response.text
        assert (after.title, after.measures, after.status) == ("Support laptop stolen", "",
                                                               "open")
        assert len(instance.service(BreachService).listing(instance.db)) == 1


def test_the_console_records_counts_drafts_and_closes_and_the_overview_shows_the_clock(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        ) -> None:
    publish_notice(instance)
    owner = _staff(instance, make_staff, "owner")
    ada = new_subject(instance, "ada@example.org")
    with instance.db.write() as session:  # the owner's account read Ada an hour ago
        instance.subjects.get(session, ada, actor=f"staff:{owner.id}", now=NOW - HOUR)
    open_session(console, owner, clock.now)
    form = console.get("/admin/breaches/new")
    assert form.status_code == 200
    assert 'name="data_categories" value="email"' in form.text
    csrf = form_value(form.text, "csrf")
    bad = console.post("/admin/breaches", data={"csrf": csrf, "title": "",
                                                "noticed_at": "yesterday",
                                                "people_estimate": "many"})
    assert bad.status_code == 422
    assert bad.text.count('aria-invalid="true"') == 3
    assert instance.service(BreachService).listing(instance.db) == []
    made = console.post("/admin/breaches", data={
        "csrf": csrf, "title": "Support laptop stolen", "noticed_at": "2026-11-28T09:30",
        "what_happened": "Stolen from a car; the disk is encrypted.",
        "data_categories": ["email", "name"]}, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = console.get(made.headers["location"])
    assert "The 72-hour clock is running" in page.text
    assert "2026-12-01 09:30" in page.text  # the deadline
    assert "45 hours left to notify the authority" in page.text
    breach_id = made.headers["location"].split("/")[-1].split("?")[0]
    overview = console.get("/admin")
    assert 'id="breaches-open"' in overview.text
    assert f"/admin/breaches/{breach_id}" in overview.text

    scoped = console.post(f"/admin/breaches/{breach_id}/scope", data={
        "csrf": csrf, "scope_actor": f"staff:{owner.id}", "scope_start": "2026-11-29T00:00",
        "scope_end": "2026-11-29T12:00"}, follow_redirects=False)
    assert scoped.status_code == 303
    shown = console.get(f"/admin/breaches/{breach_id}")
    assert "1 (counted from the audit log)" in shown.text
    backwards = console.post(f"/admin/breaches/{breach_id}/scope", data={
        "csrf": csrf, "scope_actor": f"staff:{owner.id}", "scope_start": "2026-11-29T12:00",
        "scope_end": "2026-11-29T00:00"})
    assert backwards.status_code == 422
    assert 'id="scope_end-error"' in backwards.text

    refused = console.post(f"/admin/breaches/{breach_id}/close", data={"csrf": csrf})
    assert refused.status_code == 409
    assert "Art. 33(1)" in refused.text
    assert "Dear Sir or Madam" in refused.text  # the draft notice to the people
    assert "Sehr geehrte Damen und Herren" in refused.text
    saved = console.post(f"/admin/breaches/{breach_id}", data={
        "csrf": csrf, "authority_notified_at": "2026-11-29T10:00",
        "authority_reference": "BlnBDI-2026-17", "tell_people": "no",
        "tell_people_reason": "The disk is encrypted; the data is unintelligible to others.",
        "measures": "Remote wipe requested."}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    noticed = console.post(f"/admin/breaches/{breach_id}", data={
        "csrf": csrf, "notice_en": "Dear customer, our own text.", "notice_de": ""},
        follow_redirects=False)
    assert noticed.status_code == 303
    after = instance.service(BreachService).get(instance.db, breach_id)
    assert after.data_categories == ["email", "name"]  # a form without them keeps them
    assert (after.notice_en, after.measures) == ("Dear customer, our own text.",
                                                 "Remote wipe requested.")
    closed = console.post(f"/admin/breaches/{breach_id}/close", data={"csrf": csrf},
                          follow_redirects=False)
    assert closed.status_code == 303
    assert 'id="breaches-open"' not in console.get("/admin").text
    assert "BlnBDI-2026-17" in console.get("/admin/breaches/" + breach_id).text
    assert console.get("/admin/breaches/not-an-id").status_code == 404


def test_an_auditor_sees_the_clock_but_no_forms(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        ) -> None:
    late = _open(instance, "Mail sent to the wrong list", noticed=80 * HOUR)
    open_session(console, make_staff("auditor"), clock.now)
    assert "the 72 hours ended 8 hours ago" in console.get("/admin").text
    page = console.get(f"/admin/breaches/{late}")
    assert "<form" not in page.text.split('<main', 1)[1].split("</main>", 1)[0]
    de = console.get(f"/admin/breaches/{late}?lang=de")
    assert 'lang="de"' in de.text


def test_the_breach_command(instance: Instance, settings: Settings) -> None:  # noqa: F811
    publish_notice(instance)
    runner = CliRunner(env={"COLUMNS": "200"})
    base = ["--data-dir", str(settings.data_dir), "breach"]
    opened = runner.invoke(cli_app, [*base, "open", "--title", "Support laptop stolen",
                                     "--categories", "email,name", "--estimate", "40"])
    assert opened.exit_code == 0, opened.output
    found = re.search(r"id:\s+(\S+)", opened.output)
    assert found is not None
    breach_id = found.group(1)
    assert "h left to notify the authority" in opened.output
    wrong = runner.invoke(cli_app, [*base, "open", "--title", "x", "--categories", "shoes"])
    assert wrong.exit_code != 0
    assert "data_categories" in str(wrong.exception)  # the `ehrlich` entry point prints it
    listed = runner.invoke(cli_app, [*base, "list"])
    assert breach_id in listed.output
    scoped = runner.invoke(cli_app, [*base, "scope", breach_id, "--actor", "token:abc123",
                                     "--start", "2026-11-01", "--end", "2026-11-30"])
    assert scoped.exit_code == 0, scoped.output
    assert "0 people read by token:abc123" in scoped.output
    updated = runner.invoke(cli_app, [*base, "update", breach_id, "--authority-not-notified",
                                      "Disk encrypted: no risk to anyone.", "--tell-people",
                                      "no", "--tell-people-reason", "Disk encrypted."])
    assert updated.exit_code == 0, updated.output
    shown = runner.invoke(cli_app, [*base, "show", breach_id, "--notice"])
    assert "Sehr geehrte Damen und Herren" in shown.output
    assert "E-Mail-Adresse, Name" in shown.output
    closed = runner.invoke(cli_app, [*base, "close", breach_id])
    assert closed.exit_code == 0, closed.output
    assert "status:" in closed.output
    assert "closed" in closed.output
