"""Sessions over HTTP: cookie flags, fixation, CSRF, timeouts, re-authentication, logout,
no user enumeration, security headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ehrlich.auth.totp import code_at
from ehrlich.instance.service import Instance
from tests.auth.conftest import (
    Clock,
    form_value,
    login_form_csrf,
    post_login,
    sign_in,
)
from tests.factories import Staff
from tests.jobs import run_jobs

SESSION = "__Host-ehrlich-session"


def _set_cookies(response: object) -> list[str]:
    return response.headers.get_list("set-cookie")  # type: ignore[attr-defined, no-any-return]


def test_session_cookie_is_host_prefixed_secure_httponly_samesite(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    owner = make_staff("owner")
    response = sign_in(console, owner, clock.now)
    cookies = [c for c in _set_cookies(response) if c.startswith(SESSION + "=")]
    assert cookies, _set_cookies(response)
    flags = [part.strip().lower() for part in cookies[0].split(";")]
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(flags)
    assert not any(f.startswith("domain=") for f in flags)
    token = cookies[0].split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url


def test_session_id_changes_at_each_login_step(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    owner = make_staff("owner")
    console.cookies.set(SESSION, "attacker-chosen-id", domain="testserver.local")
    first = post_login(console, owner.email, owner.password)
    after_password = console.cookies.get(SESSION)
    assert first.headers["location"] == "/admin/login/code"
    assert after_password not in (None, "attacker-chosen-id")
    assert owner.secret is not None
    page = console.get("/admin/login/code").text
    console.post("/admin/login/code", data={"code": code_at(owner.secret, clock.now),
                                            "csrf": form_value(page, "csrf")})
    assert console.cookies.get(SESSION) not in (after_password, None)
    console.cookies.set(SESSION, after_password or "", domain="testserver.local")
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


def test_cross_site_post_is_refused(console: TestClient,
                                    make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    csrf = login_form_csrf(console)
    response = console.post("/admin/login", headers={"Origin": "https://evil.example"},
                            data={"email": owner.email, "password": owner.password,
                                  "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 403
    response = console.post("/admin/login", headers={"Sec-Fetch-Site": "cross-site"},
                            data={"email": owner.email, "password": owner.password,
                                  "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 403


def test_forms_without_the_csrf_token_are_refused(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    owner = make_staff("owner")
    assert post_login(console, owner.email, owner.password, csrf="").status_code == 403
    assert post_login(console, owner.email, owner.password, csrf="0" * 64).status_code == 403
    sign_in(console, owner, clock.now)
    response = console.post("/admin/staff", data={"email": "x@example.org",
                                                  "role": "support", "csrf": "forged"})
    assert response.status_code == 403
    assert "x@example.org" not in console.get("/admin/staff").text


def test_idle_and_absolute_timeouts(console: TestClient, make_staff: Callable[..., Staff],
                                    clock: Clock) -> None:
    owner = make_staff("owner")
    sign_in(console, owner, clock.now)
    assert console.get("/admin", follow_redirects=False).status_code == 200
    clock.advance(minutes=29)
    assert console.get("/admin", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    clock.advance(minutes=1)
    sign_in(console, owner, clock.now)
    for _ in range(25):  # active all the time, yet the absolute limit ends the session
        clock.advance(minutes=29)
        response = console.get("/admin", follow_redirects=False)
        if response.status_code != 200:
            break
    assert response.headers["location"] == "/admin/login"
    assert _ == 24  # 12 hours of 29-minute steps


def test_sensitive_action_needs_fresh_authentication(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    owner = make_staff("owner")
    sign_in(console, owner, clock.now)
    clock.advance(minutes=11)
    page = console.get("/admin/staff").text
    response = console.post("/admin/staff", data={
        "email": "new@example.org", "role": "support", "csrf": form_value(page, "csrf")},
        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/reauth?next=/admin/staff"
    page = console.get("/admin/reauth?next=/admin/staff").text
    wrong = console.post("/admin/reauth", data={
        "password": "not it", "code": "", "csrf": form_value(page, "csrf"),
        "next": "/admin/staff"})
    assert wrong.status_code == 401
    assert owner.secret is not None
    clock.advance(seconds=60)  # a new code step
    ok = console.post("/admin/reauth", data={
        "password": owner.password, "code": code_at(owner.secret, clock.now),
        "csrf": form_value(page, "csrf"), "next": "/admin/staff"}, follow_redirects=False)
    assert ok.headers["location"] == "/admin/staff"
    page = console.get("/admin/staff").text
    added = console.post("/admin/staff", data={
        "email": "new@example.org", "role": "support", "csrf": form_value(page, "csrf")})
    assert added.status_code == 201
    assert "new@example.org" in added.text
    assert form_value(added.text, "csrf")


def test_reauth_never_redirects_off_site(console: TestClient, make_staff: Callable[..., Staff],
                                         clock: Clock) -> None:
    sign_in(console, make_staff("support"), clock.now)
    response = console.get("/admin/reauth?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/admin"


def test_logout_ends_the_session_on_the_server(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock) -> None:
    sign_in(console, make_staff("owner"), clock.now)
    token = console.cookies.get(SESSION)
    csrf = form_value(console.get("/admin").text, "csrf")
    console.post("/admin/logout", data={"csrf": csrf})
    console.cookies.set(SESSION, token or "", domain="testserver.local")
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


def test_no_user_enumeration_by_message_or_status(
        console: TestClient, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    known = post_login(console, owner.email, "wrong password here")
    unknown = post_login(console, "nobody@example.org", "wrong password here")
    assert known.status_code == unknown.status_code == 401
    assert known.text.replace(owner.email, "X") == unknown.text.replace(
        "nobody@example.org", "X")


@pytest.mark.parametrize("path", ["/admin/login", "/security"])
def test_security_headers(console: TestClient, path: str) -> None:
    response = console.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_embeddable_pages_may_be_framed(console: TestClient) -> None:
    response = console.get("/embed/anything")
    assert "frame-ancestors https:" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers


def test_ended_sessions_are_purged_by_the_worker(instance: Instance,
                                                 make_staff: Callable[..., Staff]) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from ehrlich.auth.models import StaffSession
    from ehrlich.auth.tasks import PURGE_SESSIONS_TASK
    from ehrlich.storage.base import utcnow

    owner = make_staff("owner")
    sessions = instance.staff.sessions
    now = utcnow()
    with instance.db.write() as session:
        kept = sessions.create(session, owner.id, stage="full", now=now)
        sessions.create(session, owner.id, stage="full", now=now - timedelta(minutes=31))
        busy_but_old = sessions.create(session, owner.id, stage="full",
                                       now=now - timedelta(hours=13))
        row = sessions.row(session, busy_but_old)
        assert row is not None
        row.last_seen_at = now - timedelta(minutes=1)  # busy, but past the absolute limit
    with instance.db.read() as session:
        assert session.execute(select(func.count()).select_from(StaffSession)).scalar() == 3
    assert PURGE_SESSIONS_TASK in instance.jobs.task_names
    instance.jobs.enqueue(PURGE_SESSIONS_TASK)
    assert run_jobs(instance) == 1
    with instance.db.read() as session:
        left = session.execute(select(StaffSession.id_hash)).scalars().all()
        assert left == [sessions.row(session, kept).id_hash]  # type: ignore[union-attr]
