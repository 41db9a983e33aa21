"""When the signup cannot be used: before a notice is published, and while mail is off.
Each says so on a page in the page's language (or as problem+json on the API) and
writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.consent.conftest import NEWSLETTER_EN
from tests.consent.helpers import event_count, reopened

Auth = Callable[..., dict[str, str]]
FORM = {"email": "ada@example.org", "notice_version": "1", "language": "en",
        "purpose": ["newsletter"]}


@pytest.mark.parametrize("path", ["/signup", "/embed/signup"])
def test_signup_before_a_notice_is_published_says_it_is_not_open_yet(
        client: TestClient, instance: Instance, path: str) -> None:
    english = client.get(path)
    assert english.status_code == 503
    assert "Signup is not open yet" in english.text
    assert '<html lang="en">' in english.text
    german = client.get(f"{path}?lang=de")
    assert german.status_code == 503
    assert "Die Anmeldung ist noch nicht geöffnet" in german.text
    assert '<html lang="de">' in german.text
    posted = client.post(path, data={**FORM, "language": "de"})
    assert posted.status_code == 503
    assert "noch nicht geöffnet" in posted.text
    assert event_count(instance) == 0


def test_while_mail_is_off_the_form_says_signups_are_closed_and_writes_nothing(
        published: Instance, settings: Settings) -> None:
    with reopened(published, settings, smtp_host=None) as (instance, outbox, client):
        for path in ("/signup", "/embed/signup"):
            page = client.get(path)
            assert page.status_code == 503
            assert "Signups are closed until mail is set up" in page.text
            assert 'name="email"' not in page.text  # no form to fill in for nothing
            assert "could not send you" not in page.text  # nobody has submitted anything
        german = client.get("/signup?lang=de")
        assert "Anmeldungen sind geschlossen, bis der Mailversand eingerichtet ist" in (
            german.text)
        assert "nicht schicken" not in german.text
        client.cookies.clear()
        posted = client.post("/signup", data=FORM)
        assert posted.status_code == 503
        assert "Signups are closed until mail is set up" in posted.text
        assert "we could not send you the confirmation link" in posted.text
        assert "check your mail" not in posted.text
        assert event_count(instance) == 0
        assert outbox.sent == []


def test_while_mail_is_off_the_api_refuses_signups(
        published: Instance, settings: Settings, auth: Auth) -> None:
    headers = auth("signups:write")
    with reopened(published, settings, smtp_host=None) as (instance, outbox, client):
        response = client.post("/api/v1/signups", headers=headers, json={
            "email": "ada@example.org", "language": "en", "notice_version": 1,
            "consents": [{"purpose": "newsletter", "text": NEWSLETTER_EN}]})
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("signups-closed")
        assert "until mail is set up" in response.json()["detail"]
        assert event_count(instance) == 0
        assert outbox.sent == []
