"""The console's contacts pages: who may do what (a test per action and role), masked values
by default, reveal/export/erase in the audit chain, forms that keep input and show errors
next to fields, notes sealed under the person's key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.admin.deps import guide_of
from ehrlich.audit.models import AuditEntry
from ehrlich.auth.roles import Role
from ehrlich.consent.schemas import Evidence
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import Caller, CopiesService
from ehrlich.subjects.models import Subject, SubjectNote
from ehrlich.subjects.schemas import SubjectInput
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.factories import Staff, publish_notice, record

Maker = Callable[..., Staff]
REASON = "the customer asked us on the phone"
WHERE = "sent to the customer by mail"
EMAIL = "ada.lovelace@example.org"

# What each role may do on the contacts pages; the rest answers 403.
MAY: dict[Role, set[str]] = {
    Role.OWNER: {"list", "search", "person", "reveal", "rectify_form", "rectify", "note",
                 "export", "erase_form", "erase"},
    Role.ADMIN: {"list", "search", "person", "reveal", "rectify_form", "rectify", "note",
                 "export", "erase_form", "erase"},
    Role.SUPPORT: {"list", "search", "person", "reveal", "rectify_form", "rectify", "note"},
    Role.MARKETER: set(),
    Role.AUDITOR: set(),
}
ACTIONS = sorted(MAY[Role.OWNER])


def _person(instance: Instance, email: str = EMAIL, **fields: Any) -> str:
    with instance.db.write() as session:
        return instance.subjects.create(session, SubjectInput(email=email, **fields),
                                        actor="test", now=NOW).subject.id


def _audit(instance: Instance, action: str) -> list[AuditEntry]:
    with instance.db.read() as session:
        return list(session.execute(select(AuditEntry).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _csrf(console: TestClient) -> str:  # noqa: F811
    return form_value(console.get("/admin/account").text, "csrf")


def _act(console: TestClient, action: str, subject: str, csrf: str) -> Any:  # noqa: F811
    base = f"/admin/contacts/{subject}"
    calls: dict[str, Callable[[], Any]] = {
        "list": lambda: console.get("/admin/contacts"),
        "search": lambda: console.get("/admin/contacts", params={"q": EMAIL}),
        "person": lambda: console.get(base),
        "reveal": lambda: console.post(f"{base}/reveal", data={"reason": REASON,
                                                               "csrf": csrf}),
        "rectify_form": lambda: console.get(f"{base}/rectify"),
        "rectify": lambda: console.post(f"{base}/rectify", data={"name": "Ada King",
                                                                 "csrf": csrf}),
        "note": lambda: console.post(f"{base}/notes", data={"body": "prefers mail",
                                                            "csrf": csrf}),
        "export": lambda: console.post(f"{base}/export", data={
            "reason": REASON, "destination": WHERE, "csrf": csrf}),
        "erase_form": lambda: console.get(f"{base}/erase"),
        "erase": lambda: console.post(f"{base}/erase", data={"reason": REASON,
                                                             "csrf": csrf}),
    }
    return calls[action]()


@pytest.mark.role_matrix(lambda role, action, **_: action in MAY[role])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_its_contacts_actions(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock, role: Role, action: str) -> None:  # noqa: F811
    subject = _person(instance)
    open_session(console, make_staff(role.value), clock.now)
    response = _act(console, action, subject, _csrf(console))
    if action in MAY[role]:
        assert response.status_code in (200, 303), response.text
    else:
        assert response.status_code == 403
        assert 'class="admin"' in response.text
    with instance.db.read() as session:
        row = session.get(Subject, subject)
    assert row is not None
    assert (row.state == "erased") == (action == "erase" and action in MAY[role])


def test_the_contacts_entry_shows_only_to_roles_that_may_list(
        console: TestClient, make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("marketer", totp=False), clock.now)
    assert 'href="/admin/contacts"' not in console.get("/admin").text
    console.cookies.clear()
    open_session(console, make_staff("support"), clock.now)
    assert 'href="/admin/contacts"' in console.get("/admin").text


def test_list_and_person_page_show_masked_values_only(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance, name="Ada Lovelace", phone="+4915112345612",
                      attributes={"city": "London"})
    open_session(console, make_staff("support"), clock.now)
    listing = console.get("/admin/contacts").text
    person = console.get(f"/admin/contacts/{subject}").text
    for text in (listing, person):
        assert "a••@example.org" in text
        assert "+49 ••• •• 12" in text
        assert "A•• L••" in text
        for secret in (EMAIL, "Lovelace", "15112345612", "London"):
            assert secret not in text
    assert "L••" in person  # the attribute, masked
    by_phone = console.get("/admin/contacts", params={"q": "+49 151 12345612"}).text
    assert f"/admin/contacts/{subject}" in by_phone
    assert "+49 ••• •• 12" in by_phone


def test_a_list_page_is_one_audit_entry_naming_its_subjects(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    ids = [_person(instance, f"p{n}@example.org") for n in range(3)]
    open_session(console, make_staff("support"), clock.now)
    assert console.get("/admin/contacts").status_code == 200
    entries = _audit(instance, "subject.list.read")
    assert len(entries) == 1
    assert entries[0].target.startswith("batch:")
    assert sorted(json.loads(entries[0].detail)["subjects"]) == sorted(ids)
    found = console.get("/admin/contacts", params={"q": " P1@Example.org "})
    assert "p••@example.org" in found.text
    searches = _audit(instance, "subject.search")
    assert [json.loads(e.detail)["subjects"] for e in searches] == [[ids[1]]]


def test_reveal_needs_a_reason_and_is_audited_before_the_page(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    staff = make_staff("support")
    open_session(console, staff, clock.now)
    csrf = _csrf(console)
    short = console.post(f"/admin/contacts/{subject}/reveal", data={"reason": "why",
                                                                    "csrf": csrf})
    assert short.status_code == 422
    assert re.search(r'id="reason-error">[^<]*10 characters', short.text)
    assert 'name="reason" type="text" value="why"' in short.text  # the input is kept
    assert EMAIL not in short.text
    assert _audit(instance, "staff.reveal") == []
    shown = console.post(f"/admin/contacts/{subject}/reveal", data={"reason": REASON,
                                                                    "csrf": csrf})
    assert shown.status_code == 200
    assert EMAIL in shown.text
    [entry] = _audit(instance, "staff.reveal")
    assert (entry.actor, entry.target) == (f"staff:{staff.id}", subject)
    assert json.loads(entry.detail) == {"reason": REASON}
    forged = console.post(f"/admin/contacts/{subject}/reveal", data={"reason": REASON,
                                                                     "csrf": "forged"})
    assert forged.status_code == 403
    assert EMAIL not in forged.text
    assert len(_audit(instance, "staff.reveal")) == 1


def test_export_is_a_tracked_copy(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    record(instance, subject, "requested")
    staff = make_staff("admin")
    open_session(console, staff, clock.now)
    csrf = _csrf(console)
    refused = console.post(f"/admin/contacts/{subject}/export", data={"reason": "",
                                                                      "csrf": csrf})
    assert refused.status_code == 422
    assert 'id="export-reason-error"' in refused.text
    assert _audit(instance, "copy.issued") == []
    assert 'id="export-destination-error"' in refused.text
    got = console.post(f"/admin/contacts/{subject}/export", data={
        "reason": REASON, "destination": WHERE, "csrf": csrf})
    assert got.status_code == 200
    assert got.headers["content-disposition"] == (
        f'attachment; filename="contact-{subject}.json"')
    body = got.json()
    assert body["subject"]["email"] == EMAIL
    assert [e["action"] for e in body["consent_events"]] == ["requested"]
    [entry] = _audit(instance, "copy.issued")
    detail = json.loads(entry.detail)
    assert (entry.actor, entry.target) == (f"staff:{staff.id}", body["copy"]["id"])
    assert got.headers["x-ehrlich-copy"] == body["copy"]["id"]
    assert (detail["kind"], detail["what"], detail["reason"], detail["destination"]) == (
        "contact", subject, REASON, WHERE)
    assert detail["expires"] == body["copy"]["destroy_by"] == "2026-12-29T12:00:00+00:00"
    with instance.db.read() as session:
        copy = instance.service(CopiesService).get(session, body["copy"]["id"],
                                                   Caller("test"), now=NOW)
    assert (copy.holder, copy.rows, copy.status) == (f"staff:{staff.id}", 1, "open")
    assert copy.digest == "sha256:" + hashlib.sha256(got.content).hexdigest()


def test_rectify_shows_errors_next_to_fields_and_keeps_input(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    _person(instance, "taken@example.org")
    open_session(console, make_staff("support"), clock.now)
    csrf = _csrf(console)
    url = f"/admin/contacts/{subject}/rectify"
    bad = console.post(url, data={"email": "ada@", "name": "Ada King", "csrf": csrf})
    assert bad.status_code == 422
    assert 'id="email-error"' in bad.text
    assert 'value="Ada King"' in bad.text
    bad_json = console.post(url, data={"attributes": "[1]", "csrf": csrf})
    assert bad_json.status_code == 422
    assert 'id="attributes-error">must be a JSON object' in bad_json.text
    control = console.post(url, data={"name": "Ada\u202eKing", "csrf": csrf})
    assert control.status_code == 422
    assert 'id="name-error"' in control.text
    taken = console.post(url, data={"email": "taken@example.org", "csrf": csrf})
    assert taken.status_code == 409
    assert 'id="email-error"' in taken.text
    with instance.db.read() as session:
        assert instance.subjects.get(session, subject, actor="t", now=NOW,
                                     audited=False).name is None
    done = console.post(url, data={"name": "Ada King", "attributes": '{"city": "Bath"}',
                                   "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert "The changes were saved." in console.get(done.headers["location"]).text
    with instance.db.read() as session:
        view = instance.subjects.get(session, subject, actor="t", now=NOW, audited=False)
    assert (view.email, view.name, view.attributes) == (EMAIL, "Ada King", {"city": "Bath"})


def test_notes_are_sealed_under_the_persons_key_and_erased_with_them(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    owner = make_staff("owner")
    open_session(console, owner, clock.now)
    csrf = _csrf(console)
    empty = console.post(f"/admin/contacts/{subject}/notes", data={"body": "  ",
                                                                   "csrf": csrf})
    assert empty.status_code == 422
    assert 'id="note-error"' in empty.text
    added = console.post(f"/admin/contacts/{subject}/notes",
                         data={"body": "Called about the invoice", "csrf": csrf})
    assert "Called about the invoice" in added.text
    # the author by their email, the id kept in the title
    owner_shown = owner.email.replace("@", "@<wbr>")  # may break after its @
    assert f'<span class="actor" title="staff:{owner.id}">{owner_shown}</span> ·' in added.text
    with instance.db.read() as session:
        [note] = session.execute(select(SubjectNote)).scalars().all()
    assert note.body_ct is not None
    assert b"invoice" not in note.body_ct
    erased = console.post(f"/admin/contacts/{subject}/erase", data={"reason": REASON,
                                                                    "csrf": csrf})
    assert "This contact was erased" in erased.text
    with instance.db.read() as session:
        assert session.execute(select(SubjectNote)).scalars().all() == []


def test_erase_asks_once_and_is_audited(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    staff = make_staff("admin")
    open_session(console, staff, clock.now)
    confirm = console.get(f"/admin/contacts/{subject}/erase")
    assert "Erase for good" in confirm.text
    csrf = form_value(confirm.text, "csrf")
    short = console.post(f"/admin/contacts/{subject}/erase", data={"reason": "x",
                                                                   "csrf": csrf})
    assert short.status_code == 422
    assert 'id="reason-error"' in short.text
    done = console.post(f"/admin/contacts/{subject}/erase", data={"reason": REASON,
                                                                  "csrf": csrf},
                        follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/admin/contacts/{subject}")
    page = console.get(f"/admin/contacts/{subject}")
    assert page.status_code == 200
    assert "This contact was erased on 2026-11-29" in page.text
    [entry] = _audit(instance, "subject.erase")
    assert (entry.actor, json.loads(entry.detail)) == (f"staff:{staff.id}", {"reason": REASON})
    assert "a••@example.org" not in console.get("/admin/contacts").text


def test_erase_needs_a_recent_sign_in(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    open_session(console, make_staff("owner"), clock.now)
    csrf = _csrf(console)
    clock.advance(minutes=20)  # past the re-authentication window, within the idle limit
    assert console.get(f"/admin/contacts/{subject}").status_code == 200
    clock.advance(minutes=20)
    stale = console.post(f"/admin/contacts/{subject}/erase", data={"reason": REASON,
                                                                   "csrf": csrf},
                         follow_redirects=False)
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/admin/reauth")
    with instance.db.read() as session:
        assert session.get(Subject, subject).state == "active"  # type: ignore[union-attr]


def test_filters_show_errors_next_to_fields(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("support"), clock.now)
    bad = console.get("/admin/contacts", params={"since": "29.11.2026", "source": "fair"})
    assert bad.status_code == 422
    assert 'id="since-error"' in bad.text
    assert 'value="fair"' in bad.text
    german = console.get("/admin/contacts", params={"q": "not a number", "lang": "de"})
    assert 'id="q-error">Geben Sie eine ganze E-Mail-Adresse' in german.text


def test_a_consent_on_a_channel_no_notice_declares_is_shown_by_its_id(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    """The consent API takes any well-formed channel; the page names it, not a 500."""
    subject = _person(instance)
    record(instance, subject, "granted", channel="fax")
    open_session(console, make_staff("support"), clock.now)
    page = console.get(f"/admin/contacts/{subject}")
    assert page.status_code == 200
    assert "newsletter / fax" in page.text


def test_person_page_shows_timeline_suppression_and_own_links(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    subject = _person(instance)
    record(instance, subject, "requested", evidence=Evidence(
        ip="203.0.113.7", user_agent="Firefox", sec_gpc="1"))
    record(instance, subject, "granted", method="import-with-evidence", extra={
        "import": "01a237d3-90d4-7ea4-b7e6-a364f6263790", "source": "Trade fair 2025",
        "given_at": "2025-03-02"})
    record(instance, subject, "withdrawn")
    open_session(console, make_staff("support"), clock.now)
    page = console.get(f"/admin/contacts/{subject}").text
    # an imported consent's proof is what the list said: its source and date, the run
    assert "Source: Trade fair 2025<br>" in page
    assert "Given on: 2025-03-02<br>" in page
    assert '<a href="/admin/imports/01a237d3-90d4-7ea4-b7e6-a364f6263790"' in page
    # the ledger's ids in the page's words: the method, the action, the state
    assert "<td>from an imported list, with its proof</td>" in page
    german = console.get(f"/admin/contacts/{subject}?lang=de").text
    assert "<td>erteilt</td>" in german
    assert "<td>aus einer importierten Liste, mit deren Nachweis</td>" in german
    assert "<td>granted</td>" not in german
    assert "Yes, send me the weekly newsletter" in page
    assert page.count("/admin/consents/proof/") == 3
    assert "203.0.113.0/24" in page
    assert "Global Privacy Control: 1" in page
    assert "withdrawn" in page
    assert "Suppression" in page
    assert "Not suppressed" not in page
    assert re.search(r'id="link-preferences"[^>]*value="https://testserver/preferences/', page)
    assert re.search(r'value="https://testserver/unsubscribe/', page)
    proof = re.search(r'href="(/admin/consents/proof/[^"]+)"', page)
    assert proof is not None
    assert console.get(proof.group(1)).status_code == 200  # support may print the proof


@pytest.mark.parametrize(("role", "may_import"), [("admin", True), ("support", False)])
def test_an_empty_list_says_where_contacts_come_from(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock, role: str, may_import: bool) -> None:  # noqa: F811
    open_session(console, make_staff(role), clock.now)
    empty = console.get("/admin/contacts").text
    assert "No contacts yet" in empty
    assert 'href="/signup"' in empty
    # the import only for a role that may use it
    assert ('href="/admin/imports"' in empty) is may_import
    assert "No contact matches." not in empty
    filtered = console.get("/admin/contacts", params={"source": "fair"}).text
    assert "No contact matches." in filtered
    assert "No contacts yet" not in filtered


def test_the_filters_read_in_the_pages_language(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    _person(instance)
    staff = make_staff("support")
    with instance.db.write() as session:  # the guide as it reads with the notice
        instance.staff.users.acknowledge_guide(session, staff.id, guide_of(instance).hash,
                                               now=NOW)
    open_session(console, staff, clock.now)
    german = console.get("/admin/contacts", params={"lang": "de"}).text
    assert '<option value="requested">wartet auf Bestätigung</option>' in german
    assert '<option value="renewal-needed">muss erneuert werden</option>' in german
    options = re.findall(r'<option value="([a-z-]+/[a-z]+)">([^<]*)</option>', german)
    assert options
    for value, label in options:
        assert label != value  # a title and a channel in words, not the ledger's ids
        assert " / " in label
