"""The import pages: upload → columns with a preview → evidence → confirm → progress and
report, errors beside their fields, and the `subjects.import` permission on every step."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ehrlich.admin.deps import guide_of
from ehrlich.i18n import LANG_COOKIE
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.service import ImportsService
from ehrlich.instance.service import Instance
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    Staff,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.consent.conftest import publish
from tests.imports.helpers import plan
from tests.imports.sample import make_sample
from tests.jobs import run_jobs_when_enqueued

Maker = Callable[..., Staff]
EXCEL = ("E-Mail;Name;Kundennummer;Opt-in-Quelle\r\n"
         "jürgen@example.org;Jürgen Müller;1;Laden\r\n"
         "not-an-address;Anna Schäfer;2;\r\n"
         "=cmd|' /C calc'!A0;Formel;3;\r\n"
         "bärbel@example.org;=1+1;4;\r\n").encode("cp1252")


def _staff(instance: Instance, maker: Maker, role: str, **options: bool) -> Staff:
    """A staff member who has read the guide as it reads with the published notice."""
    staff = maker(role, **options)
    with instance.db.write() as session:
        instance.staff.users.acknowledge_guide(session, staff.id,
                                               guide_of(instance).hash, now=NOW)
    return staff


def _csrf(client: TestClient, path: str) -> str:
    return form_value(client.get(path).text, "csrf")


def _german(client: TestClient, path: str) -> str:
    """The page in German, leaving the client's language as it was (no language cookie)."""
    text = client.get(path, params={"lang": "de"}).text
    client.cookies.delete(LANG_COOKIE)
    return text


def test_the_whole_flow_with_an_excel_file(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish(instance)
    run_jobs_when_enqueued(instance)
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    uploaded = console.post("/admin/imports", data={"csrf": _csrf(console, "/admin/imports")},
                            files={"file": ("list.csv", EXCEL, "text/csv")},
                            follow_redirects=False)
    assert uploaded.status_code == 303, uploaded.text
    columns_path = uploaded.headers["location"]
    columns = console.get(columns_path).text
    assert "Windows-1252" in columns
    german_columns = _german(console, columns_path)
    assert "Gelesen als Windows-1252, Spalten durch „;“ getrennt: 4 Zeilen." in german_columns
    assert "— nicht in der Datei —" in german_columns
    assert "Jürgen Müller" in columns
    assert '<option value="E-Mail" selected>' in columns  # guessed from the name
    evidence = console.post(columns_path, data={
        "csrf": form_value(columns, "csrf"), "email": "E-Mail", "name": "Name",
        "attributes": ["Kundennummer"]})
    assert evidence.status_code == 200
    assert '<option value="Opt-in-Quelle">' in evidence.text
    run_path = columns_path.removesuffix("/columns")
    planned = console.post(f"{run_path}/plan", data={
        "csrf": form_value(evidence.text, "csrf"), "email": "E-Mail", "name": "Name",
        "attributes": "Kundennummer", "source": "Shop list 2024", "purpose": "newsletter",
        "lang": "en", "source_column": "Opt-in-Quelle"}, follow_redirects=False)
    assert planned.status_code == 303, planned.text
    confirm = console.get(f"{run_path}/confirm").text
    assert "2 rows will be rejected" in confirm
    # the whole evidence mapping, the purpose by the title people were shown
    facts = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", html.unescape(confirm)))
    assert facts["Consent purpose"].endswith("(newsletter)")
    assert facts["Consent purpose"] != "newsletter (newsletter)"
    assert facts["Language of the consent text"] == "English (en)"
    assert facts["Column with the consent source"] == "Opt-in-Quelle"
    assert facts["Column with the consent date"] == "— none —"
    assert facts["Notice version shown (empty: the published one)"] == "the published one"
    assert "2 Zeilen werden abgelehnt" in _german(console, f"{run_path}/confirm")
    started = console.post(f"{run_path}/start", data={"csrf": form_value(confirm, "csrf")},
                           follow_redirects=False)
    assert started.headers["location"] == run_path
    done = console.get(run_path).text
    assert '<td class="num" data-count="created">2</td>' in done
    assert '<td class="num" data-count="with_evidence">1</td>' in done
    assert "import-progress.js" not in done  # finished: nothing to poll
    german = console.get(run_path + "?lang=de").text
    assert '<span class="badge ok" id="import-status">fertig</span>' in german
    assert "4 von 4 Zeilen" in german
    assert '<th scope="row">Mit Nachweis der Einwilligung</th>' in german
    assert console.get("/admin/imports?lang=de").text.count('<span class="badge ok">fertig<') == 1
    # the refused rows' reasons in the page's language; the download keeps them as stored
    assert "<td>E-Mail</td><td>Das ist keine gültige E-Mail-Adresse." in german
    assert "is not a valid email address" not in german
    report = console.get(f"{run_path}/report.csv")
    assert report.headers["content-disposition"].startswith("attachment;")
    assert report.content.decode("utf-8-sig").splitlines() == [
        "row,column,reason",
        "3,E-Mail,is not a valid email address (An email address must have an @-sign.)",
        "4,E-Mail,is not a valid email address (An email address must have an @-sign.)"]
    progress = console.get(f"{run_path}/progress").json()
    assert (progress["status"], progress["percent"], progress["rejected"]) == ("done", 100, 2)


def test_errors_stand_beside_their_fields_and_keep_the_input(
        console: TestClient, instance: Instance, make_staff: Maker, clock: Clock  # noqa: F811
) -> None:
    publish(instance)
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    assert "Eine Liste importieren" in console.get("/admin/imports?lang=de").text
    empty = console.post("/admin/imports", data={"csrf": _csrf(console, "/admin/imports")},
                         files={"file": ("list.csv", b"", "text/csv")})
    assert empty.status_code == 422
    assert '<p class="field-error" id="file-error">is empty</p>' in empty.text
    assert 'aria-describedby="file-error file-hint"' in empty.text
    uploaded = console.post("/admin/imports", data={"csrf": _csrf(console, "/admin/imports")},
                            files={"file": ("list.csv", EXCEL, "text/csv")},
                            follow_redirects=False)
    columns_path = uploaded.headers["location"]
    csrf = _csrf(console, columns_path)
    unmapped = console.post(columns_path, data={"csrf": csrf, "name": "Name"})
    assert unmapped.status_code == 422
    assert "map a column to email or to phone" in unmapped.text
    assert '<option value="Name" selected>' in unmapped.text
    run_path = columns_path.removesuffix("/columns")
    nameless = console.post(f"{run_path}/plan", data={
        "csrf": csrf, "email": "E-Mail", "source": "", "purpose": "newsletter",
        "lang": "en", "date_column": "Opt-in-Quelle"})
    assert nameless.status_code == 422
    assert "String should have at least 1 character" in nameless.text
    assert '<option value="Opt-in-Quelle" selected>' in nameless.text


ALLOWED = {"owner", "admin", "marketer"}
ACTIONS = ["list", "upload", "columns", "choose", "plan", "confirm", "start", "progress",
           "poll", "report"]


@pytest.mark.role_matrix(lambda role, **_: role in ALLOWED)
@pytest.mark.parametrize("role", ["owner", "admin", "marketer", "support", "auditor"])
@pytest.mark.parametrize("action", ACTIONS)
def test_every_step_needs_the_import_permission(
        console: TestClient, instance: Instance, make_staff: Maker, clock: Clock,  # noqa: F811
        role: str, action: str) -> None:
    publish(instance)
    imports = instance.service(ImportsService)
    draft, _ = imports.upload(instance.db, make_sample(100).raw, actor="test", now=NOW)
    imports.save_plan(instance.db, draft.id, plan(), now=NOW)
    done = imports.create_run(instance.db, read_table(make_sample(100).raw), plan(),
                              actor="test", now=NOW)
    open_session(console, _staff(instance, make_staff, role), clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    base = f"/admin/imports/{draft.id}"
    form = {"csrf": csrf, "email": "E-Mail", "source": "x"}
    calls = {
        "list": lambda: console.get("/admin/imports"),
        "upload": lambda: console.post("/admin/imports", data={"csrf": csrf}, files={
            "file": ("l.csv", EXCEL, "text/csv")}, follow_redirects=False),
        "columns": lambda: console.get(f"{base}/columns"),
        "choose": lambda: console.post(f"{base}/columns", data=form),
        "plan": lambda: console.post(f"{base}/plan", data=form, follow_redirects=False),
        "confirm": lambda: console.get(f"{base}/confirm"),
        "start": lambda: console.post(f"{base}/start", data={"csrf": csrf},
                                      follow_redirects=False),
        "progress": lambda: console.get(f"/admin/imports/{done.id}"),
        "poll": lambda: console.get(f"/admin/imports/{done.id}/progress"),
        "report": lambda: console.get(f"/admin/imports/{done.id}/report.csv"),
    }
    run_jobs_when_enqueued(instance)
    status = calls[action]().status_code
    if role in ALLOWED:
        assert status in (200, 303)
    else:
        assert status == 403
