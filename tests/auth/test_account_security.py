"""Confirming a signed-in session (Account, re-authentication) and the QR code: the same
throttle as the sign-in, a refused new password that changes nothing, a code that scans."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import segno
from fastapi.testclient import TestClient
from sqlalchemy import update

from ehrlich.auth.models import StaffUser
from ehrlich.auth.totp import code_at, provisioning_uri, qr_svg
from ehrlich.captcha.service import solve
from ehrlich.instance.service import Instance
from tests.auth.conftest import (
    Clock,
    challenge_of,
    form_value,
    sign_in,
)
from tests.conftest import NOW
from tests.factories import Staff

NEW = "glacier-orbit-parsley-42"
SESSION_COOKIE = "__Host-ehrlich-session"


def _change(console: TestClient, current: str, new: str, *, altcha: str = "",
            page: str | None = None):  # type: ignore[no-untyped-def]
    csrf = form_value(page or console.get("/admin/account").text, "csrf")
    return console.post("/admin/account", data={"current": current, "new_password": new,
                                                "csrf": csrf, "altcha": altcha},
                        follow_redirects=False)


def _password_works(instance: Instance, staff: Staff, password: str) -> bool:
    with instance.db.read() as session:
        user = instance.staff.users.by_email(session, staff.email)
        assert user is not None
        return instance.staff.users.passwords.verify(user.password_hash, password)


def test_the_qr_code_scales_whole_instead_of_being_cropped() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="a@example.org",
                           issuer="ehrlich")
    svg = qr_svg(uri)
    tag = svg[:svg.index(">")]
    assert " width=" not in tag  # CSS sets the size
    assert " height=" not in tag
    side = segno.make(uri, error="m").symbol_size(scale=5, border=4)[0]
    assert f'viewBox="0 0 {side} {side}"' in tag  # the whole code, quiet zone included
    assert 'fill="#fff"' in svg  # light modules are drawn, not left to the page colour


def test_a_refused_new_password_changes_nothing_and_the_next_one_is_set(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("support")
    sign_in(console, staff, clock.now)
    weak = _change(console, staff.password, "password1234")
    assert weak.status_code == 422
    assert "new_password" in weak.text or "too easy" in weak.text
    assert SESSION_COOKIE not in weak.headers.get("set-cookie", "")
    ok = _change(console, staff.password, NEW, page=weak.text)
    assert ok.status_code == 200, ok.headers.get("location")
    assert "Your password was changed." in ok.text
    assert _password_works(instance, staff, NEW)
    assert not _password_works(instance, staff, staff.password)
    # the only session left is this one, named as such and without a "sign out there"
    assert "This session" in ok.text
    assert "/admin/account/sessions/" not in ok.text
    assert console.get("/admin", follow_redirects=False).status_code == 200


def test_the_first_sign_in_says_a_new_password_is_needed_now(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("marketer")
    with instance.db.write() as session:
        session.execute(update(StaffUser).values(
            must_change_password=True, initial_password_expires_at=NOW + timedelta(hours=72)))
    sign_in(console, staff, clock.now)
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/account"
    page = console.get("/admin/account").text
    notice = re.search(r'<div class="message urgent" role="alert" id="must-change">(.*?)</div>',
                       page, re.S)
    assert notice, page
    assert "Choose your own password now" in notice.group(1)
    assert (NOW + timedelta(hours=72)).strftime("%Y-%m-%d %H:%M") in notice.group(1)
    done = _change(console, staff.password, NEW, page=page)
    assert done.status_code == 200
    assert 'id="must-change"' not in done.text


def test_wrong_current_passwords_on_account_meet_the_sign_in_throttle(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    staff = make_staff("support")
    sign_in(console, staff, clock.now)
    # This browser holds the device cookie of its sign-in: the trusted-device rules apply,
    # a few more tries and then the growing delay, as on the sign-in page.
    limit = instance.staff.login.throttle.policy.captcha_after_device
    statuses = [_change(console, f"wrong-{i}", NEW).status_code for i in range(limit)]
    assert statuses[:3] == [401] * 3
    assert statuses[-1] == 429
    blocked = _change(console, staff.password, NEW)  # even the right one, unsolved
    assert blocked.status_code == 401
    assert 'src="/static/captcha.js"' in blocked.text
    assert not _password_works(instance, staff, NEW)
    clock.advance(seconds=61)  # past the delay
    done = _change(console, staff.password, NEW, page=blocked.text,
                   altcha=solve(challenge_of(blocked.text)))
    assert done.status_code == 200
    assert _password_works(instance, staff, NEW)


def test_reauth_meets_the_sign_in_throttle_and_wrong_codes_end_the_session(
        console: TestClient, instance: Instance, make_staff: Callable[..., Staff],
        clock: Clock) -> None:
    owner = make_staff("owner")
    assert owner.secret is not None
    sign_in(console, owner, clock.now)

    def reauth(password: str, code: str, altcha: str = ""):  # type: ignore[no-untyped-def]
        csrf = form_value(console.get("/admin/reauth?next=/admin/staff").text, "csrf")
        return console.post("/admin/reauth", data={
            "password": password, "code": code, "csrf": csrf, "next": "/admin/staff",
            "altcha": altcha}, follow_redirects=False)

    wrong_codes = instance.staff.login.throttle.policy.second_factor_failures
    answers = [reauth(owner.password, "000000") for _ in range(wrong_codes)]
    assert [a.status_code for a in answers[:-1]] == [401] * (wrong_codes - 1)
    assert answers[-1].headers["location"] == "/admin/login"  # as after wrong sign-in codes
    assert console.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    sign_in(console, owner, clock.advance(minutes=1))
    limit = instance.staff.login.throttle.policy.captcha_after_device
    statuses = [reauth(f"wrong-{i}", "").status_code for i in range(limit)]
    assert statuses[:3] == [401] * 3
    assert statuses[-1] == 429
    code = code_at(owner.secret, clock.advance(minutes=1))
    blocked = reauth(owner.password, code)  # even the right password and code, unsolved
    assert blocked.status_code == 401
    assert "data-altcha-challenge" in blocked.text
    done = reauth(owner.password, code, solve(challenge_of(blocked.text)))
    assert done.headers["location"] == "/admin/staff"
