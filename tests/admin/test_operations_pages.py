"""The console's operations pages: who may do what (a test per action and role), API
tokens shown once and audited, staff roles and resets, the audit log's filters and chain
check, backups run and verified from the console (the settings page: test_settings_page)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ehrlich.audit.models import AuditEntry
from ehrlich.audit.service import AuditEvent
from ehrlich.auth.models import ApiToken, StaffUser
from ehrlich.auth.roles import Permission, Role, allowed
from ehrlich.auth.totp import code_at
from ehrlich.backup.service import BackupService
from ehrlich.errors import Conflict, NotAllowed
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
from tests.factories import Staff

Maker = Callable[..., Staff]
ROLES = [r.value for r in Role]


def replace_settings(service: BackupService, chosen: Settings) -> BackupService:
    service = copy.copy(service)
    service.settings = chosen
    return service


def _csrf(client: TestClient) -> str:
    return form_value(client.get("/admin/account").text, "csrf")


def _audit(instance: Instance, action: str) -> list[AuditEntry]:  # noqa: F811
    with instance.db.read() as session:
        return list(session.execute(select(AuditEntry).where(
            AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


# -- permissions: one test per action and role ------------------------------------------

ACTIONS: list[tuple[str, str, str, Permission]] = [
    ("backups page", "GET", "/admin/backups", Permission.POSTURE_READ),
    ("back up now", "POST", "/admin/backups/run", Permission.BACKUP_RUN),
    ("verify a backup now", "POST", "/admin/backups/verify", Permission.BACKUP_RUN),
    ("audit page", "GET", "/admin/audit", Permission.AUDIT_READ),
    ("verify the audit chain", "POST", "/admin/audit/verify", Permission.AUDIT_READ),
    ("API tokens page", "GET", "/admin/tokens", Permission.TOKENS_MANAGE),
    ("create an API token", "POST", "/admin/tokens", Permission.TOKENS_MANAGE),
    ("confirm a revocation", "GET", "/admin/tokens/{token}/revoke", Permission.TOKENS_MANAGE),
    ("revoke an API token", "POST", "/admin/tokens/{token}/revoke", Permission.TOKENS_MANAGE),
    ("settings page", "GET", "/admin/settings", Permission.SETTINGS_READ),
    ("invite staff", "POST", "/admin/staff", Permission.STAFF_MANAGE),
    ("change a role", "POST", "/admin/staff/{other}/role", Permission.STAFF_MANAGE),
    ("reset a password", "POST", "/admin/staff/{other}/reset", Permission.STAFF_MANAGE),
    ("reset a second factor", "POST", "/admin/staff/{other}/reset", Permission.STAFF_MANAGE),
]


@pytest.mark.role_matrix(lambda role, permission, **_: allowed(role, permission))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path", "permission"), ACTIONS,
                         ids=[a[0] for a in ACTIONS])
def test_each_action_is_allowed_only_to_the_roles_with_its_permission(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        role: str, name: str, method: str, path: str, permission: Permission) -> None:
    other = make_staff("support", email="other@example.org")
    with instance.db.write() as session:
        from ehrlich.auth.api_tokens import create_api_token
        _, token = create_api_token(session, name="shop", scopes=["audit:read"], now=NOW)
    open_session(console, make_staff(role), clock.now)
    url = path.format(token=token.id, other=other.id)
    data = {"csrf": _csrf(console), "name": "crm", "scope": "consent:read", "role": "auditor",
            "email": "new@example.org", "backup_id": "ehrlich-none"}
    if name == "reset a second factor":
        data["second_factor"] = "1"
    entries_before = len(_audit(instance, "api_token.revoke"))
    response = (console.get(url) if method == "GET"
                else console.post(url, data=data, follow_redirects=False))
    if allowed(role, permission):
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500
    else:
        assert response.status_code == 403, response.text
        assert "Not allowed" in response.text
        assert len(_audit(instance, "api_token.revoke")) == entries_before


def test_new_permissions_belong_to_the_expected_roles() -> None:
    assert {r for r in Role if allowed(r, Permission.BACKUP_RUN)} == {Role.OWNER, Role.ADMIN}
    assert {r for r in Role if allowed(r, Permission.TOKENS_MANAGE)} == {Role.OWNER, Role.ADMIN}
    assert {r for r in Role if allowed(r, Permission.SETTINGS_READ)} == {
        Role.OWNER, Role.ADMIN, Role.AUDITOR}


# -- API tokens ------------------------------------------------------------------------

def test_a_token_is_shown_once_works_records_its_use_and_is_revoked(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    admin = make_staff("admin")
    open_session(console, admin, clock.now)
    created = console.post("/admin/tokens", data={
        "name": "crm", "scope": ["audit:read", "consent:read"], "csrf": _csrf(console)})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token" class="mono">(ehr_[^<]+)<', created.text)
    assert token is not None
    secret = token.group(1)
    listing = console.get("/admin/tokens").text
    assert secret not in listing
    assert secret.split("_", 2)[2] not in listing
    [entry] = _audit(instance, "api_token.create")
    assert entry.actor == f"staff:{admin.id}"
    assert secret not in entry.detail
    assert "audit:read consent:read" in entry.detail

    api = console.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    with instance.db.read() as session:
        [record] = session.execute(select(ApiToken)).scalars().all()
    assert record.last_used_at == clock.now
    assert clock.now.strftime("%Y-%m-%d %H:%M") in console.get("/admin/tokens").text

    confirm = console.get(f"/admin/tokens/{record.id}/revoke")
    assert "crm" in confirm.text
    assert 'class="btn danger"' in confirm.text
    revoked = console.post(f"/admin/tokens/{record.id}/revoke",
                           data={"csrf": form_value(confirm.text, "csrf")},
                           follow_redirects=False)
    assert revoked.status_code == 303
    assert console.get("/api/v1/audit/verify",
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    [gone] = _audit(instance, "api_token.revoke")
    assert gone.target == f"token:{record.id}"
    assert gone.actor == f"staff:{admin.id}"


def test_last_used_is_written_at_most_once_a_minute(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    from ehrlich.auth.api_tokens import create_api_token
    with instance.db.write() as session:
        secret, record = create_api_token(session, name="shop", scopes=["audit:read"],
                                          now=NOW)
    headers = {"Authorization": f"Bearer {secret}"}
    first = clock.now
    assert console.get("/api/v1/audit/verify", headers=headers).status_code == 200
    clock.advance(seconds=30)
    assert console.get("/api/v1/audit/verify", headers=headers).status_code == 200

    def last_used() -> object:
        with instance.db.read() as session:
            found = session.get(ApiToken, record.id)
            assert found is not None
            return found.last_used_at

    assert last_used() == first
    clock.advance(seconds=31)
    assert console.get("/api/v1/audit/verify", headers=headers).status_code == 200
    assert last_used() == clock.now


def test_a_token_form_with_errors_keeps_the_input_and_names_the_field(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    refused = console.post("/admin/tokens", data={"name": "my crm", "csrf": _csrf(console)})
    assert refused.status_code == 422
    assert ('<p class="field-error" id="scope-error">choose at least one</p>'
            in refused.text)
    assert "[]" not in refused.text
    assert "recipient:ID" not in refused.text
    assert 'value="my crm"' in refused.text
    unknown = console.post("/admin/tokens", data={"name": "x", "scope": "root",
                                                  "csrf": _csrf(console)})
    assert unknown.status_code == 422
    assert "unknown: root; choose from subjects:read" in unknown.text
    assert "[" not in unknown.text.split('id="scope-error">')[1].split("</p>")[0]
    nothing = console.post("/admin/tokens", data={"name": "", "csrf": _csrf(console)})
    assert 'id="scope-error"' in nothing.text
    assert 'id="name-error"' in nothing.text
    no_name = console.post("/admin/tokens", data={"name": " ", "scope": "audit:read",
                                                  "csrf": _csrf(console)})
    assert no_name.status_code == 422
    assert 'id="name-error"' in no_name.text
    assert 'value="audit:read" checked' in no_name.text
    forged = console.post("/admin/tokens", data={"name": "x", "scope": "audit:read",
                                                 "csrf": "forged"})
    assert forged.status_code == 403
    with instance.db.read() as session:
        assert session.execute(select(ApiToken)).scalars().all() == []
    assert console.get("/admin/tokens/nothere/revoke").status_code == 404


# -- staff -----------------------------------------------------------------------------

def test_roles_change_and_owners_are_kept_by_owners(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    admin = make_staff("admin")
    support = make_staff("support")
    owner = make_staff("owner")
    open_session(console, admin, clock.now)
    csrf = _csrf(console)
    changed = console.post(f"/admin/staff/{support.id}/role",
                           data={"role": "marketer", "csrf": csrf}, follow_redirects=False)
    assert changed.status_code == 303
    [entry] = _audit(instance, "staff.role")
    assert (entry.actor, entry.target) == (f"staff:{admin.id}", support.id)
    assert '"to":"marketer"' in entry.detail
    assert console.post(f"/admin/staff/{support.id}/role",
                        data={"role": "owner", "csrf": csrf}).status_code == 403
    assert console.post(f"/admin/staff/{owner.id}/role",
                        data={"role": "support", "csrf": csrf}).status_code == 403
    assert console.post(f"/admin/staff/{admin.id}/role",
                        data={"role": "owner", "csrf": csrf}).status_code == 403
    bad = console.post(f"/admin/staff/{support.id}/role", data={"role": "king", "csrf": csrf})
    assert bad.status_code == 422
    assert "role" in bad.text
    with instance.db.read() as session:
        roles = {row.id: row.role for row in session.execute(
            select(StaffUser.id, StaffUser.role))}
    assert (roles[support.id], roles[owner.id], roles[admin.id]) == (
        "marketer", "owner", "admin")


def test_the_last_owner_stays_an_owner(instance: Instance, make_staff: Maker) -> None:  # noqa: F811
    owner = make_staff("owner")
    with instance.db.write() as session, pytest.raises(Conflict, match="last owner"):
        instance.staff.users.change_role(session, owner.id, "admin", actor="cli",
                                         actor_role=Role.OWNER, now=NOW)
    second = make_staff("owner", email="second@example.org")
    with instance.db.write() as session:
        instance.staff.users.change_role(session, owner.id, "admin", actor="cli",
                                         actor_role=Role.OWNER, now=NOW)
        with pytest.raises(Conflict, match="last owner"):
            instance.staff.users.change_role(session, second.id, "admin", actor="cli",
                                             actor_role=Role.OWNER, now=NOW)


def test_nobody_disables_resets_or_re_roles_their_own_account(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    make_staff("owner")
    admin = make_staff("admin")
    open_session(console, admin, clock.now)
    csrf = _csrf(console)
    for action in ("disable", "reset", "role"):
        response = console.post(f"/admin/staff/{admin.id}/{action}",
                                data={"csrf": csrf, "role": "support"})
        assert response.status_code == 403, action
    with instance.db.read() as session:
        user = session.get(StaffUser, admin.id)
        assert user is not None
        assert (user.disabled_at, user.role, user.must_change_password) == (
            None, "admin", False)
    with instance.db.write() as session, pytest.raises(NotAllowed):
        instance.staff.users.disable(session, admin.id, actor=f"staff:{admin.id}",
                                     actor_role=Role.ADMIN, now=NOW)


def test_resets_show_a_one_time_password_once_and_drop_the_second_factor(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    owner = make_staff("owner")
    support = make_staff("support")
    open_session(console, owner, clock.now)
    page = console.post(f"/admin/staff/{support.id}/reset",
                        data={"csrf": _csrf(console), "second_factor": "1"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    password = re.search(r'id="new-password" class="mono">([^<]+)<', page.text)
    assert password is not None
    assert f"{instance.settings.initial_password_hours} hours" in page.text
    assert password.group(1) not in console.get("/admin/staff").text
    with instance.db.read() as session:
        user = session.get(StaffUser, support.id)
        assert user is not None
        assert user.totp_secret_ct is None
        assert user.must_change_password
        assert user.initial_password_expires_at == clock.now + timedelta(
            hours=instance.settings.initial_password_hours)
        assert instance.staff.users.passwords.verify(user.password_hash or "",
                                                     password.group(1))
    [entry] = _audit(instance, "staff.reset")
    assert entry.actor == f"staff:{owner.id}"
    assert '"second_factor":true' in entry.detail


def test_staff_changes_need_a_fresh_confirmation(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    owner = make_staff("owner")
    support = make_staff("support")
    open_session(console, owner, clock.now)
    clock.advance(minutes=11)
    csrf = _csrf(console)
    for action, data in (("role", {"role": "auditor"}), ("reset", {"second_factor": "1"})):
        response = console.post(f"/admin/staff/{support.id}/{action}",
                                data={"csrf": csrf, **data}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/reauth?next=/admin/staff"
    assert _audit(instance, "staff.role") == _audit(instance, "staff.reset") == []
    page = console.get("/admin/reauth?next=/admin/staff").text
    assert owner.secret is not None
    clock.advance(seconds=60)
    console.post("/admin/reauth", data={
        "password": owner.password, "code": code_at(owner.secret, clock.now),
        "csrf": form_value(page, "csrf"), "next": "/admin/staff"})
    done = console.post(f"/admin/staff/{support.id}/role",
                        data={"csrf": _csrf(console), "role": "auditor"},
                        follow_redirects=False)
    assert done.status_code == 303
    assert len(_audit(instance, "staff.role")) == 1


# -- audit -----------------------------------------------------------------------------

def _entries(instance: Instance, count: int, *, actor: str = "cli",  # noqa: F811
             action: str = "test.thing") -> None:
    with instance.db.write() as session:
        instance.audit.record_many(session, [
            AuditEvent(actor, action, f"subject-{n}") for n in range(count)],
            now=NOW - timedelta(days=3))


def test_audit_filters_page_newest_first_and_keep_the_input(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    _entries(instance, 60, actor="token:abc", action="subject.read")
    _entries(instance, 3, actor="cli", action="subject.erase")
    open_session(console, make_staff("auditor"), clock.now)
    first = console.get("/admin/audit", params={"actor": "token:abc"})
    assert first.status_code == 200
    targets = re.findall(r'<td class="mono">(subject-\d+)</td>', first.text)
    assert targets[:2] == ["subject-59", "subject-58"]
    assert len(targets) == 50
    older = re.search(r'href="(/admin/audit\?[^"]+before=\d+)" rel="next"', first.text)
    assert older is not None
    second = console.get(older.group(1).replace("&amp;", "&")).text
    assert re.findall(r'<td class="mono">(subject-\d+)</td>', second) == [
        f"subject-{n}" for n in range(9, -1, -1)]
    one = console.get("/admin/audit", params={"action": "subject.erase",
                                               "target": "subject-1"}).text
    assert re.findall(r'<td class="mono">(subject-\d+)</td>', one) == ["subject-1"]
    day = (NOW - timedelta(days=3)).date().isoformat()
    assert "subject-59" in console.get("/admin/audit", params={"since": day,
                                                               "until": day}).text
    later = console.get("/admin/audit", params={"since": NOW.date().isoformat()}).text
    assert "subject-59" not in later
    bad = console.get("/admin/audit", params={"since": "yesterday", "actor": "cli"})
    assert bad.status_code == 422
    assert 'id="f-since-error"' in bad.text
    assert 'value="yesterday"' in bad.text
    assert 'value="cli"' in bad.text


def test_audit_names_staff_by_email_and_filters_by_it(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    admin, auditor = make_staff("admin"), make_staff("auditor")
    _entries(instance, 2, actor=f"staff:{admin.id}", action="subject.read")
    _entries(instance, 1, actor="staff:01a23c7c-gone", action="subject.erase")
    _entries(instance, 1, actor="token:abc", action="subject.list")
    open_session(console, auditor, clock.now)
    page = console.get("/admin/audit").text
    admin_shown = admin.email.replace("@", "@<wbr>")  # may break after its @
    assert (f'<td class="mono"><span class="actor" title="staff:{admin.id}">{admin_shown}'
            '</span></td>') in page
    assert '<td class="mono">staff:01a23c7c-gone</td>' in page  # no longer an account
    assert '<td class="mono">token:abc</td>' in page
    by_email = console.get("/admin/audit", params={"actor": admin.email.upper()})
    assert by_email.status_code == 200
    assert re.findall(r'<td class="mono">(subject-\d+)</td>', by_email.text) == [
        "subject-1", "subject-0"]
    assert f'value="{admin.email.upper()}"' in by_email.text  # the input as typed
    by_id = console.get("/admin/audit", params={"actor": f"staff:{admin.id}"}).text
    assert re.findall(r'<td class="mono">(subject-\d+)</td>', by_id) == ["subject-1", "subject-0"]
    unknown = console.get("/admin/audit", params={"actor": "nobody@example.org"})
    assert unknown.status_code == 422
    assert ('<p class="field-error" id="f-actor-error">no staff account has this email</p>'
            in unknown.text)


def test_audit_verify_shows_the_result_and_the_anchor(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    _entries(instance, 3)
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin/audit").text
    with instance.db.read() as session:
        head = str(instance.audit.head(session))
    assert f'id="anchor">{head}<' in page
    ok = console.post("/admin/audit/verify", data={"csrf": form_value(page, "csrf")})
    assert ok.status_code == 200
    assert "The chain is intact" in ok.text
    with instance.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(
            target="someone-else"))
    broken = console.post("/admin/audit/verify", data={"csrf": form_value(page, "csrf")})
    assert broken.status_code == 409
    assert "broken at entry 2" in broken.text
    german = console.post("/admin/audit/verify?lang=de", data={"csrf": form_value(page, "csrf")})
    assert "Die Kette ist bei Eintrag 2 gebrochen" in german.text


# -- backups ---------------------------------------------------------------------------

def test_backups_page_shows_the_reminder_and_how_to_open_a_backup(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin/backups")
    assert page.status_code == 200
    assert "No complete backup yet" in page.text
    assert "backup-recovery.agekey" in page.text
    assert "is still on this machine" in page.text
    assert "/admin/backups/run" not in page.text  # an auditor may look, not start one
    german = console.get("/admin/backups?lang=de").text
    assert "Sicherungen" in german


@pytest.mark.parametrize(("path", "german"), [
    ("/admin/tokens", "Wofür der Token ist"), ("/admin/audit", "Kette prüfen"),
    ("/admin/backups", "Noch keine vollständige Sicherung."),
    ("/admin/settings", "Die geltenden Einstellungen"),
    ("/admin/staff", "Die Einladung ist ein Einmal-Passwort")])
def test_operations_pages_speak_german_from_the_catalogue(
        path: str, german: str, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    page = console.get(path + "?lang=de")
    assert page.status_code == 200
    assert german in page.text


def test_creating_a_token_needs_a_fresh_confirmation(
        console: TestClient, make_staff: Maker, clock: Clock,  # noqa: F811
        instance: Instance) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    clock.advance(minutes=11)
    response = console.post("/admin/tokens", data={
        "name": "crm", "scope": "subjects:read", "csrf": _csrf(console)},
        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/reauth?next=/admin/tokens"
    with instance.db.read() as session:
        assert session.execute(select(ApiToken)).scalars().all() == []


def test_an_unreachable_backup_destination_is_named_not_a_crash(
        console: TestClient, make_staff: Maker, clock: Clock,  # noqa: F811
        instance: Instance) -> None:  # noqa: F811
    unreachable = instance.settings.model_copy(update={
        "backup_destination": "sftp://backup@127.0.0.1:1/srv/backups"})
    console.app.state.instance = replace(  # type: ignore[attr-defined]
        instance, settings=unreachable,
        backup=replace_settings(instance.backup, unreachable))
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin/backups")
    assert page.status_code == 200
    assert 'class="flash error"' in page.text
    assert "sftp://backup@127.0.0.1:1/srv/backups" in page.text
