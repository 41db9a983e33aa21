"""The staff queue of data requests: deadlines (one month, extended by at most two with
a reason), fulfilment by the same report or erasure as the self-service page, who may do
what, the owners' reminder, and `ehrlich requests`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ehrlich.auth.roles import Permission, Role, allowed
from ehrlich.cli.main import app as cli_app
from ehrlich.errors import Conflict, InvalidInput, NotAllowed
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.rights.queue import add_months
from ehrlich.rights.schemas import NewRequest
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from ehrlich.subjects.errors import SubjectErased
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
from tests.factories import Staff, new_subject, record

Maker = Callable[..., Staff]
ROLES = [r.value for r in Role]


def _new(kind: str = "access", received: datetime = NOW, subject: str | None = None
         ) -> NewRequest:
    return NewRequest(kind, "letter", "id-document", received, subject)  # type: ignore[arg-type]


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2026, 1, 31, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
    (datetime(2028, 1, 31, 9, tzinfo=UTC), datetime(2028, 2, 29, 9, tzinfo=UTC)),
    (datetime(2026, 11, 29, 9, tzinfo=UTC), datetime(2026, 12, 29, 9, tzinfo=UTC)),
    (datetime(2026, 12, 15, 9, tzinfo=UTC), datetime(2027, 1, 15, 9, tzinfo=UTC)),
])
def test_a_request_is_due_one_month_after_receipt(received: datetime, due: datetime) -> None:
    assert add_months(received, 1) == due


def test_extensions_need_a_reason_and_end_three_months_after_receipt(
        instance: Instance) -> None:  # noqa: F811
    rights = instance.service(RightsService)
    made = rights.record(instance.db, _new(), role=Role.SUPPORT, actor="t", now=NOW)
    assert made.due == datetime(2026, 12, 29, 12, tzinfo=UTC)
    with pytest.raises(InvalidInput) as short:
        rights.extend(instance.db, made.id, months=1, reason="busy", role="support",
                      actor="t", now=NOW)
    assert short.value.problems[0].field == "reason"
    longer = rights.extend(instance.db, made.id, months=1, reason="many requests at once",
                           role="support", actor="t", now=NOW)
    assert (longer.status, longer.due) == ("extended", datetime(2027, 1, 29, 12, tzinfo=UTC))
    with pytest.raises(InvalidInput) as too_far:
        rights.extend(instance.db, made.id, months=2, reason="still many requests",
                      role="support", actor="t", now=NOW)
    assert too_far.value.problems[0].field == "months"
    final = rights.extend(instance.db, made.id, months=1, reason="still many requests",
                          role="support", actor="t", now=NOW)
    assert final.due == datetime(2027, 2, 28, 12, tzinfo=UTC)
    closed = rights.close(instance.db, made.id, status="refused", result="identity unclear",
                          role="support", actor="t", now=NOW)
    assert closed.status == "refused"
    with pytest.raises(Conflict):
        rights.extend(instance.db, made.id, months=1, reason="one more month please",
                      role="support", actor="t", now=NOW)


def test_bad_input_names_the_field_and_changes_nothing(instance: Instance) -> None:  # noqa: F811
    rights = instance.service(RightsService)
    for bad, field in ((NewRequest("sale", "letter", "other", NOW), "kind"),  # type: ignore[arg-type]
                       (NewRequest("access", "fax", "other", NOW), "channel"),  # type: ignore[arg-type]
                       (_new(received=NOW + timedelta(days=2)), "received_at")):
        with pytest.raises(InvalidInput) as refused:
            rights.record(instance.db, bad, role="owner", actor="t", now=NOW)
        assert refused.value.problems[0].field == field
    assert rights.listing(instance.db, role="owner", status=None) == ([], 0)
    with pytest.raises(NotAllowed):
        rights.record(instance.db, _new(), role="marketer", actor="t", now=NOW)


def test_fulfilment_mails_the_person_their_link_or_erases_them(
        instance: Instance, mail: MemoryMailSender) -> None:  # noqa: F811
    rights = instance.service(RightsService)
    ada = new_subject(instance, "ada@example.org", name="Ada")
    record(instance, ada, "granted")
    access = rights.record(instance.db, _new(), role="support", actor="t",
                           email="ada@example.org", now=NOW)
    assert access.subject_id == ada
    done = rights.fulfil(instance.db, mail, access.id, role="support", actor="t",
                         language="de", now=NOW)
    assert done.mailed
    assert done.request.status == "done"
    assert mail.sent[-1].to == "ada@example.org"
    assert "/my-data/" in mail.sent[-1].text
    assert mail.sent[-1].subject.startswith("Ihre Daten")
    report = rights.record(instance.db, _new("portability", subject=ada), role="owner",
                           actor="t", now=NOW)
    with pytest.raises(NotAllowed):  # handing the report to staff is an export
        rights.fulfil(instance.db, mail, report.id, role="support", actor="t", language="en",
                      deliver="report", now=NOW)
    handed = rights.fulfil(instance.db, mail, report.id, role="owner", actor="t",
                           language="en", deliver="report", now=NOW)
    assert handed.report is not None
    assert handed.report.email == "ada@example.org"
    erasure = rights.record(instance.db, _new("erasure", subject=ada), role="support",
                            actor="t", now=NOW)
    with pytest.raises(NotAllowed):
        rights.fulfil(instance.db, mail, erasure.id, role="support", actor="t",
                      language="en", now=NOW)
    erased = rights.fulfil(instance.db, mail, erasure.id, role="admin", actor="t",
                           language="en", now=NOW)
    assert erased.erasure is not None
    assert erased.erasure.erased
    assert erased.request.result == "erased"
    with pytest.raises(SubjectErased), instance.db.read() as session:
        instance.subjects.get(session, ada, actor="t", now=NOW)
    objection = rights.record(instance.db, _new("objection"), role="support", actor="t",
                              now=NOW)
    with pytest.raises(InvalidInput):
        rights.fulfil(instance.db, mail, objection.id, role="support", actor="t",
                      language="en", now=NOW)
    assert rights.fulfil(instance.db, mail, objection.id, role="support", actor="t",
                         language="en", result="marketing stopped",
                         now=NOW).request.status == "done"


def test_owners_are_reminded_once_a_day_of_requests_due_within_a_week(
        instance: Instance, make_staff: Maker) -> None:  # noqa: F811
    owner = make_staff("owner", email="boss@example.org")
    make_staff("support", email="help@example.org")
    rights = instance.service(RightsService)
    soon = rights.record(instance.db, _new(received=NOW - timedelta(days=25)), role="owner",
                         actor="t", now=NOW)
    rights.record(instance.db, _new(received=NOW - timedelta(days=5)), role="owner",
                  actor="t", now=NOW)
    sent = MemoryMailSender()
    assert rights.remind(instance.db, sent, now=NOW) == 1
    assert [m.to for m in sent.sent] == [owner.email]
    assert f"/admin/requests/{soon.id}" in sent.sent[0].text
    assert "@" not in sent.sent[0].text.replace("boss@example.org", "")
    assert rights.remind(instance.db, sent, now=NOW + timedelta(hours=2)) == 0
    assert rights.remind(instance.db, sent, now=NOW + timedelta(days=1, hours=1)) == 1
    with instance.db.read() as session:
        assert [r.id for r in rights.due_soon(session, now=NOW)] == [soon.id]


# -- the console: who may do what ---------------------------------------------------------

ACTIONS: list[tuple[str, str, str, Permission]] = [
    ("list", "GET", "/admin/requests", Permission.REQUESTS_READ),
    ("show", "GET", "/admin/requests/{id}", Permission.REQUESTS_READ),
    ("new form", "GET", "/admin/requests/new", Permission.REQUESTS_MANAGE),
    ("record", "POST", "/admin/requests", Permission.REQUESTS_MANAGE),
    ("extend", "POST", "/admin/requests/{id}/extend", Permission.REQUESTS_MANAGE),
    ("close", "POST", "/admin/requests/{id}/close", Permission.REQUESTS_MANAGE),
    ("fulfil", "POST", "/admin/requests/{id}/fulfil", Permission.REQUESTS_MANAGE),
]


@pytest.mark.role_matrix(lambda role, permission, **_: allowed(role, permission))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path", "permission"), ACTIONS,
                         ids=[a[0] for a in ACTIONS])
def test_each_console_action_is_allowed_only_to_roles_with_its_permission(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        role: str, name: str, method: str, path: str, permission: Permission) -> None:
    rights = instance.service(RightsService)
    made = rights.record(instance.db, _new("restriction"), role="owner", actor="t", now=NOW)
    open_session(console, make_staff(role), clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    data = {"csrf": csrf, "kind": "access", "channel": "phone", "identity_check": "call-back",
            "months": "1", "reason": "many requests this month", "result": "restricted",
            "status": "done"}
    url = path.format(id=made.id)
    response = (console.get(url) if method == "GET"
                else console.post(url, data=data, follow_redirects=False))
    after = rights.get(instance.db, made.id, role="owner")
    if allowed(role, permission):
        assert response.status_code in (200, 303), response.text
    else:
        assert response.status_code == 403, response.text
        assert after.status == "open"
        assert rights.listing(instance.db, role="owner", status=None)[1] == 1


def test_the_console_records_extends_and_fulfils_and_the_overview_shows_what_is_due(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        mail: MemoryMailSender) -> None:  # noqa: F811
    new_subject(instance, "ada@example.org")
    open_session(console, make_staff("support"), clock.now)
    form = console.get("/admin/requests/new")
    assert form.status_code == 200
    csrf = form_value(form.text, "csrf")
    bad = console.post("/admin/requests", data={"csrf": csrf, "kind": "access",
                                                "channel": "letter", "identity_check": "x"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    unknown = console.post("/admin/requests", data={
        "csrf": csrf, "kind": "access", "channel": "letter", "identity_check": "id-document",
        "email": "nobody@example.org"})
    assert unknown.status_code == 422
    made = console.post("/admin/requests", data={
        "csrf": csrf, "kind": "access", "channel": "letter", "identity_check": "id-document",
        "received": "2026-11-05", "email": "ada@example.org"}, follow_redirects=False)
    assert made.status_code == 303
    page = console.get(made.headers["location"])
    assert "2026-12-05" in page.text  # due one month after receipt
    request_id = made.headers["location"].split("/")[-1].split("?")[0]
    overview = console.get("/admin")
    assert 'id="requests-due"' in overview.text
    assert f"/admin/requests/{request_id}" in overview.text
    listing = console.get("/admin/requests")
    assert request_id in listing.text
    extended = console.post(f"/admin/requests/{request_id}/extend", data={
        "csrf": csrf, "months": "1", "reason": "short"})
    assert extended.status_code == 422
    sent = console.post(f"/admin/requests/{request_id}/fulfil", data={
        "csrf": csrf, "deliver": "mail"}, follow_redirects=False)
    assert sent.status_code == 303
    assert mail.sent[-1].to == "ada@example.org"
    assert "done" in console.get(f"/admin/requests/{request_id}").text
    assert console.get("/admin/requests/not-an-id").status_code == 404


def test_the_requests_command(instance: Instance, settings: Settings,  # noqa: F811
                              tmp_path: Path) -> None:
    ada = new_subject(instance, "ada@example.org", name="Ada")
    runner = CliRunner(env={"COLUMNS": "200"})
    base = ["--data-dir", str(settings.data_dir)]
    recorded = runner.invoke(cli_app, [*base, "requests", "record", "--kind", "access",
                                       "--channel", "letter", "--identity-check",
                                       "id-document", "--email", "ada@example.org"])
    assert recorded.exit_code == 0, recorded.output
    request_id = re.search(r"id:\s+(\S+)", recorded.output)
    assert request_id is not None
    listed = runner.invoke(cli_app, [*base, "requests", "list"])
    assert request_id.group(1) in listed.output
    shown = runner.invoke(cli_app, [*base, "requests", "show", request_id.group(1)])
    assert "id-document" in shown.output
    assert ada in shown.output
    out = tmp_path / "report.json"
    done = runner.invoke(cli_app, [*base, "requests", "fulfil", request_id.group(1),
                                   "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["email"] == "ada@example.org"
    assert out.stat().st_mode & 0o077 == 0
    again = runner.invoke(cli_app, [*base, "requests", "fulfil", request_id.group(1)])
    assert again.exit_code != 0


def test_the_queue_pages_speak_german(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        ) -> None:
    rights = instance.service(RightsService)
    made = rights.record(instance.db, _new("erasure"), role="owner", actor="t", now=NOW)
    open_session(console, make_staff("owner"), clock.now)
    listing = console.get("/admin/requests?lang=de")
    assert "Anfragen zu Daten" in listing.text
    assert "Löschung (Art. 17)" in listing.text
    shown = console.get(f"/admin/requests/{made.id}?lang=de")
    assert "Frist verlängern" in shown.text
    assert "Ausweis eingesehen (nicht kopiert)" in shown.text
    assert "Anfrage zu Daten erfassen" in console.get("/admin/requests/new?lang=de").text
    assert "Diese Woche fällige Anfragen zu Daten" in console.get("/admin?lang=de").text
