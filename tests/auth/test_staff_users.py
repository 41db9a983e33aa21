"""Staff accounts: the TOTP secret at rest, recovery codes, resets, the console pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from ehrlich.auth.models import StaffUser
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL, session_hash
from ehrlich.auth.totp import code_at
from ehrlich.errors import ConfigurationError, Conflict, IntegrityFailure, InvalidInput
from ehrlich.instance.service import Instance
from tests.auth.conftest import (
    Clock,
    form_value,
    sign_in,
)
from tests.conftest import NOW
from tests.factories import Staff, publish_notice


def test_totp_secret_is_sealed_and_bound_to_its_account(
        instance: Instance, make_staff: Callable[..., Staff]) -> None:
    owner, admin = make_staff("owner"), make_staff("admin")
    assert owner.secret is not None
    with instance.db.read() as session:
        rows = {u.id: u for u in session.execute(select(StaffUser)).scalars()}
    blob = rows[owner.id].totp_secret_ct
    assert blob is not None
    assert owner.secret.encode() not in blob
    assert instance.staff.users.open_secret(owner.id, blob) == owner.secret
    try:
        instance.staff.users.open_secret(admin.id, blob)
        moved = True
    except IntegrityFailure:
        moved = False
    assert not moved


def test_staff_ids_become_emails_in_one_query(
        instance: Instance, make_staff: Callable[..., Staff]) -> None:
    people = [make_staff("admin", email=f"admin-{n}@example.org", totp=False)
              for n in range(3)]
    actors = [f"staff:{p.id}" for p in people] * 10 + [
        "staff:01a23c7c-0000-7000-8000-000000000000", "system", "bench", "token:abc",
        "staff:" + "x" * 400, "staff:"]
    queries: list[str] = []
    with instance.db.read() as session:
        event.listen(session, "do_orm_execute", lambda state: queries.append(state.statement))
        emails = instance.staff.users.emails_of(session, actors)
        assert instance.staff.users.emails_of(session, ["cli", "token:abc"]) == {}
    assert emails == {f"staff:{p.id}": p.email for p in people}  # the rest: as they are
    assert len(queries) == 1
    with instance.db.read() as session:
        named = instance.staff.users.actor_named
        assert named(session, f"  {people[0].email.upper()} ".strip()) == f"staff:{people[0].id}"
        assert named(session, "token:abc") == "token:abc"
        assert named(session, "staff:gone") == "staff:gone"
        with pytest.raises(InvalidInput, match="actor: no staff account has this email"):
            named(session, "nobody@example.org")


def test_recovery_codes_work_once(instance: Instance, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner", totp=False)
    with instance.db.write() as session:
        token = instance.staff.sessions.create(session, owner.id, stage=STAGE_FULL, now=NOW)
        row = instance.staff.sessions.row(session, token)
        assert row is not None
        secret = instance.staff.users.begin_enrolment(session, owner.id, row).secret
        codes = instance.staff.users.confirm_enrolment(session, owner.id, row,
                                                       code_at(secret, NOW), now=NOW)
    assert len(set(codes)) == 10
    with instance.db.write() as session:
        user = session.get(StaffUser, owner.id)
        assert user is not None
        assert instance.staff.users.check_second_factor(session, user, codes[0].upper(),
                                                        now=NOW)
        assert not instance.staff.users.check_second_factor(session, user, codes[0], now=NOW)
        assert not instance.staff.users.check_second_factor(session, user, "a" * 24, now=NOW)


def test_reset_and_disable(instance: Instance, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    support = make_staff("support")
    with instance.db.write() as session:
        password = instance.staff.users.reset(session, owner.email, actor="cli",
                                              actor_role=Role.OWNER, now=NOW,
                                              second_factor=True)
        user = instance.staff.users.by_email(session, owner.email)
        assert user is not None
        assert user.totp_secret_ct is None
        assert user.must_change_password
        assert instance.staff.users.passwords.verify(user.password_hash, password)
        instance.staff.users.disable(session, support.email, actor="cli",
                                     actor_role=Role.OWNER, now=NOW)
    with instance.db.write() as session:
        try:
            instance.staff.users.disable(session, owner.email, actor="cli",
                                         actor_role=Role.OWNER, now=NOW)
            refused = False
        except Conflict:
            refused = True
    assert refused  # the last owner stays


def test_console_in_german_with_role_navigation(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    sign_in(console, make_staff("support"), clock.now)
    page = console.get("/admin?lang=de").text
    assert 'lang="de"' in page
    assert "Übersicht" in page
    assert "/admin/staff" not in page  # support does not manage staff
    assert "Schutzbericht" not in page  # nor see the posture report
    assert console.get("/admin/staff").status_code == 403


def test_owner_dashboard_shows_counts_and_the_posture_report(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    sign_in(console, make_staff("owner"), clock.now)
    page = console.get("/admin").text
    assert "Protection report" in page
    assert "Audit chain verifies" in page
    assert "/admin/staff" in page


def test_first_sign_in_enrols_the_second_factor_and_acknowledges_the_guide(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    admin = make_staff("admin", totp=False, acknowledged=False)
    response = sign_in(console, admin, clock.now)
    assert response.headers["location"] == "/admin/enrol"
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/enrol"
    page = console.get("/admin/enrol").text
    assert "<svg" in page
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    done = console.post("/admin/enrol", data={"code": code_at(secret, clock.now),
                                              "csrf": form_value(page, "csrf")})
    assert done.status_code == 200
    assert done.text.count("<li><code>") == 10
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/guide"
    guide = console.get("/admin/guide").text
    console.post("/admin/guide", data={"guide_hash": form_value(guide, "guide_hash"),
                                       "csrf": form_value(guide, "csrf")})
    assert console.get("/admin", follow_redirects=False).status_code == 200
    with instance.db.write() as session:
        session.execute(update(StaffUser).values(guide_ack_hash="old"))
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/guide"


def test_change_password_checks_the_current_one_and_the_policy(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    staff = make_staff("support")
    sign_in(console, staff, clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    wrong = console.post("/admin/account", data={"current": "nope", "new_password":
                                                 "glacier-orbit-parsley-42", "csrf": csrf})
    assert wrong.status_code == 401
    weak = console.post("/admin/account", data={"current": staff.password,
                                                "new_password": "password1234", "csrf": csrf})
    assert weak.status_code == 422
    csrf = form_value(weak.text, "csrf")
    ok = console.post("/admin/account", data={"current": staff.password, "new_password":
                                              "glacier-orbit-parsley-42", "csrf": csrf},
                      follow_redirects=False)  # a redirect to the sign-in is no success
    assert ok.status_code == 200
    assert "Your password was changed." in ok.text


def test_initial_password_must_be_replaced_before_anything_else(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("marketer")
    with instance.db.write() as session:
        session.execute(update(StaffUser).values(must_change_password=True))
    sign_in(console, staff, clock.now)
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/account"
    csrf = form_value(console.get("/admin/account").text, "csrf")
    console.post("/admin/account", data={"current": staff.password, "new_password":
                                         "glacier-orbit-parsley-42", "csrf": csrf})
    assert console.get("/admin", follow_redirects=False).status_code == 200


def test_password_change_ends_other_sessions(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("support")
    with instance.db.write() as session:
        elsewhere = instance.staff.sessions.create(session, staff.id, stage=STAGE_FULL,
                                                   now=clock.now)
    sign_in(console, staff, clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    console.post("/admin/account", data={"current": staff.password, "new_password":
                                         "glacier-orbit-parsley-42", "csrf": csrf})
    assert console.get("/admin", follow_redirects=False).status_code == 200
    with instance.db.read() as session:
        assert instance.staff.sessions.row(session, elsewhere) is None


def test_replacing_the_second_factor_needs_fresh_authentication(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    sign_in(console, make_staff("owner"), clock.now)
    assert console.get("/admin/enrol", follow_redirects=False).status_code == 200
    clock.advance(minutes=15)
    response = console.get("/admin/enrol", follow_redirects=False)
    assert response.headers["location"] == "/admin/reauth?next=/admin/enrol"


def test_sign_out_everywhere(console: TestClient, instance: Instance,
                             make_staff: Callable[..., Staff], clock: Clock) -> None:
    staff = make_staff("support")
    with instance.db.write() as session:
        elsewhere = instance.staff.sessions.create(session, staff.id, stage=STAGE_FULL,
                                                   now=clock.now)
    sign_in(console, staff, clock.now)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    response = console.post("/admin/account/sessions", data={"csrf": csrf},
                            follow_redirects=False)
    assert response.headers["location"] == "/admin/login"
    with instance.db.read() as session:
        assert instance.staff.sessions.row(session, elsewhere) is None
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


def test_kek_rotation_reseals_totp_secrets_so_the_old_key_can_go(
        instance: Instance, make_staff: Callable[..., Staff]) -> None:
    from ehrlich.instance.keys import add_kek, retire_kek

    owner = make_staff("owner")
    add_kek(instance)
    with instance.db.read() as session:
        assert instance.staff.users.sealed_by_kek_version(session) == {1: 1}
    try:
        retire_kek(instance, 1)
        retired_too_early = True
    except ConfigurationError:
        retired_too_early = False
    assert not retired_too_early
    with instance.db.write() as session:
        assert instance.staff.users.reseal_secrets(session) == 1
    retire_kek(instance, 1)
    with instance.db.read() as session:
        user = instance.staff.users.by_email(session, owner.email)
        assert user is not None
        assert user.totp_secret_ct is not None
        assert instance.staff.users.open_secret(user.id, user.totp_secret_ct) == owner.secret


def test_publishing_a_notice_changes_the_guide_and_asks_for_a_new_acknowledgement(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:

    sign_in(console, make_staff("support"), clock.now)
    assert console.get("/admin", follow_redirects=False).status_code == 200
    publish_notice(instance, now=clock.now)
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/guide"
    guide = console.get("/admin/guide?lang=de").text
    assert "Ihre Bestellungen und Reparaturen" in guide
    assert "Rechtsgrundlage" in guide
    console.post("/admin/guide", data={"guide_hash": form_value(guide, "guide_hash"),
                                       "csrf": form_value(guide, "csrf")})
    assert console.get("/admin", follow_redirects=False).status_code == 200


def test_staff_see_their_sessions_and_end_one_elsewhere(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("support")
    other = make_staff("marketer")
    with instance.db.write() as session:
        elsewhere = instance.staff.sessions.create(session, staff.id, stage=STAGE_FULL,
                                                   now=clock.now)
        not_mine = instance.staff.sessions.create(session, other.id, stage=STAGE_FULL,
                                                  now=clock.now)
        old = instance.staff.sessions.create(session, staff.id, stage=STAGE_FULL,
                                             now=clock.now - timedelta(hours=2))
    sign_in(console, staff, clock.now)
    page = console.get("/admin/account").text
    assert page.count("/admin/account/sessions/") == 1  # the other live one
    assert "this browser" in page
    with instance.db.read() as session:
        listed = instance.staff.sessions.list_for(session, staff.id, current_token=old,
                                                  now=clock.now)
        ref = session_hash(elsewhere).hex()
        foreign = instance.staff.sessions.list_for(session, other.id, current_token=not_mine,
                                                   now=clock.now)[0].ref
    assert len(listed) == 2  # the timed-out session is not listed
    assert ref in {s.ref for s in listed}
    csrf = form_value(page, "csrf")
    console.post(f"/admin/account/sessions/{foreign}/end", data={"csrf": csrf})
    console.post(f"/admin/account/sessions/{ref}/end", data={"csrf": csrf})
    with instance.db.read() as session:
        assert instance.staff.sessions.row(session, not_mine) is not None  # not mine to end
        remaining = {s.ref for s in instance.staff.sessions.list_for(
            session, staff.id, current_token=elsewhere, now=clock.now)}
    assert ref not in remaining
    assert console.get("/admin", follow_redirects=False).status_code == 200


def test_a_generated_password_expires_unless_replaced_in_time(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    from dataclasses import replace

    from tests.auth.conftest import post_login

    staff = make_staff("marketer")
    lifetime = instance.staff.users.initial_password_lifetime
    assert lifetime == timedelta(hours=72)
    with instance.db.write() as session:
        password = instance.staff.users.reset(session, staff.email, actor="cli",
                                              actor_role=Role.OWNER, now=clock.now)
        user = instance.staff.users.by_email(session, staff.email)
        assert user is not None
        assert user.initial_password_expires_at == clock.now + lifetime
    staff = replace(staff, password=password)
    clock.advance(hours=72, seconds=1)
    refused = post_login(console, staff.email, password)
    assert refused.status_code == 401
    assert "one-time password has expired" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    with instance.db.write() as session:  # a new one starts a new window
        password = instance.staff.users.reset(session, staff.email, actor="cli",
                                              actor_role=Role.OWNER, now=clock.now)
    staff = replace(staff, password=password)
    clock.advance(hours=71)
    sign_in(console, staff, clock.now)
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/account"
    csrf = form_value(console.get("/admin/account").text, "csrf")
    console.post("/admin/account", data={"current": password, "new_password":
                                         "glacier-orbit-parsley-42", "csrf": csrf})
    with instance.db.read() as session:
        user = instance.staff.users.by_email(session, staff.email)
        assert user is not None
        assert (user.must_change_password, user.initial_password_expires_at) == (False, None)


SESSION_COOKIE = "__Host-ehrlich-session"
