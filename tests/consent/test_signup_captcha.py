"""The signup form once the CAPTCHA is required: the answer keeps the language the form was
shown in (and so does what is recorded and mailed); a browser without JavaScript takes the
<noscript> path, limited per client; confirmation mails are limited per recipient."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.captcha.service import solve
from ehrlich.consent.models import ConsentEvent
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.consent.helpers import consent_texts, event_count, reopened


def form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"email": "ada@example.org", "notice_version": "1",
                            "language": "en", "purpose": ["newsletter"], "website": ""}
    data.update(changes)
    return data


def challenge_of(page: str) -> dict[str, Any]:
    raw = re.search(r'data-altcha-challenge="([^"]+)"', page)
    assert raw is not None, page
    found: dict[str, Any] = json.loads(unescape(raw.group(1)))
    return found


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, page
    return found.group(1)


def test_the_captcha_page_keeps_the_form_language_and_the_german_text_is_recorded(
        published: Instance, settings: Settings) -> None:
    with reopened(published, settings, signup_captcha_after=0) as (instance, outbox, client):
        german = consent_texts(instance, "de")["newsletter"]
        asked = client.post("/signup", data=form(language="de"))  # no Accept-Language
        assert asked.status_code == 429
        assert '<html lang="de">' in asked.text
        assert hidden(asked.text, "language") == "de"
        assert german in unescape(asked.text)
        assert "Bitte warten Sie kurz" in asked.text
        solved = client.post("/signup", data=form(
            language=hidden(asked.text, "language"), notice_version=hidden(
                asked.text, "notice_version"), altcha=solve(challenge_of(asked.text))))
        assert solved.status_code == 200
        assert "Bitte sehen Sie in Ihr Postfach" in solved.text
        with instance.db.read() as session:
            event = session.execute(select(ConsentEvent)).scalar_one()
        assert (event.language, event.text_shown) == ("de", german)
        [mail] = outbox.sent
        assert mail.language == "de"
        assert mail.subject.startswith("Bitte bestätigen")


def test_without_javascript_the_noscript_path_signs_up_a_few_per_client(
        published: Instance, settings: Settings) -> None:
    with reopened(published, settings, signup_captcha_after=0,
                  signup_no_script_per_hour=2) as (instance, outbox, client):
        asked = client.post("/signup", data=form())
        assert asked.status_code == 429
        noscript = re.search(r"<noscript>(.*?)</noscript>", asked.text, re.S)
        assert noscript is not None
        assert 'name="no_script" value="1"' in noscript.group(1)
        assert re.search(r'<button type="submit" name="no_script" value="1">'
                         r"Send without JavaScript</button>", asked.text)
        assert "Working" not in re.sub(r'data-altcha-working="[^"]*"', "", asked.text)
        assert event_count(instance) == 0
        for email in ("ada@example.org", "bob@example.org"):
            sent = client.post("/signup", data=form(email=email, no_script="1"))
            assert sent.status_code == 200
            assert "check your mail" in sent.text
        assert event_count(instance) == 2
        assert len(outbox.sent) == 2
        limited = client.post("/signup", data=form(email="cy@example.org", no_script="1"))
        assert limited.status_code == 429
        assert "Too many signups from your network" in limited.text
        assert limited.headers["retry-after"] == "3600"
        assert "data-altcha-challenge" not in limited.text
        assert event_count(instance) == 2


def test_confirmation_mails_to_one_address_are_limited_whatever_the_client(
        published: Instance, settings: Settings) -> None:
    with reopened(published, settings) as (instance, outbox, client):
        answers = []
        for i in range(8):
            other = TestClient(client.app, client=(f"198.51.100.{i + 1}", 50000))
            answers.append(other.post("/signup", data=form()))
        assert {a.status_code for a in answers} == {200}
        assert len({a.text for a in answers}) == 1  # the same answer: no enumeration
        assert len(outbox.sent) == 3  # signup_mails_per_recipient, by default
        assert event_count(instance) == 3
        other = TestClient(client.app, client=("198.51.100.99", 50000))
        assert other.post("/signup", data=form(email="bob@example.org")).status_code == 200
        assert [m.to for m in outbox.sent[3:]] == ["bob@example.org"]
