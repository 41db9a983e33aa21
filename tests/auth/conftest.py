"""Console fixtures: an HTTPS console client with a settable clock, and signing in (staff
accounts in each role come from `tests.factories`: `make_staff`, `Staff`, `PASSWORD`)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from ehrlich.admin.deps import cookie_names
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.captcha.service import solve
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.settings import Settings
from ehrlich.web.deps import get_now
from tests.apps import app_for
from tests.conftest import NOW
from tests.factories import Staff
from tests.instances import InstanceTemplates


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """HTTPS base URL, so cookies are `__Host-` and Secure as in production."""
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="https://testserver",
                    captcha_base_number=200)


@pytest.fixture
def mail() -> MemoryMailSender:
    return MemoryMailSender()


@pytest.fixture
def instance(settings: Settings, mail: MemoryMailSender,
             instance_templates: InstanceTemplates) -> Iterator[Instance]:
    """The instance, sending its mail into `mail`."""
    instance_templates.install(settings)
    opened = replace(open_instance(settings), mail=mail)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def console(instance: Instance, clock: Clock) -> Iterator[TestClient]:
    app = app_for(instance)
    app.dependency_overrides[get_now] = lambda: clock.now
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def form_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} field on the page"
    return html.unescape(found.group(1))


def challenge_of(page: str) -> dict[str, object]:
    found = re.search(r'data-altcha-challenge="([^"]+)"', page)
    assert found, "no CAPTCHA challenge on the page"
    loaded: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return loaded


def login_form_csrf(client: TestClient) -> str:
    return form_value(client.get("/admin/login").text, "csrf")


def post_login(client: TestClient, email: str, password: str, *,
               altcha: str = "", csrf: str | None = None) -> Response:
    token = csrf if csrf is not None else login_form_csrf(client)
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf": token, "altcha": altcha},
                       follow_redirects=False)


def sign_in(client: TestClient, staff: Staff, now: datetime) -> Response:
    """Password (solving a CAPTCHA if asked), then the code; returns the last response."""
    response = post_login(client, staff.email, staff.password)
    if response.status_code == 401 and "data-altcha-challenge" in response.text:
        response = post_login(client, staff.email, staff.password,
                              altcha=solve(challenge_of(response.text)))
    assert response.status_code == 303, response.text
    if response.headers["location"] != "/admin/login/code":
        return response
    assert staff.secret is not None
    page = client.get("/admin/login/code").text
    return client.post("/admin/login/code", data={
        "code": code_at(staff.secret, now), "csrf": form_value(page, "csrf")},
        follow_redirects=False)


def open_session(client: TestClient, staff: Staff, now: datetime) -> None:
    """`staff` signed in on `client` as `sign_in` leaves them (a session past both steps,
    authenticated at `now`), without walking the sign-in pages: for the tests of what
    comes after signing in (the sign-in itself is tested through its pages in tests/auth
    and the browser tests). It skips one password hash check and four requests per test.
    A staff member without a second factor signs in through the pages (enrolment)."""
    if staff.secret is None:
        sign_in(client, staff, now)
        return
    instance: Instance = client.app.state.instance  # type: ignore[attr-defined]
    with instance.db.write() as session:
        token = instance.staff.sessions.create(session, staff.id, stage=STAGE_FULL, now=now)
    client.cookies.set(cookie_names(instance).session, token)
