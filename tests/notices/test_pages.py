"""The public notice pages and JSON over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ehrlich.app import create_app
from ehrlich.domains import open_instance
from ehrlich.i18n import pick_language
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.instances import InstanceTemplates
from tests.notices.conftest import variant


def _publish(instance: Instance, text: str, hours: int = 0) -> None:
    with instance.db.write() as session:
        instance.notices.publish(session, text, file="n.yaml", publisher="jana",
                                 now=NOW + timedelta(hours=hours))


@pytest.fixture
def published(instance: Instance, example: str) -> Instance:
    _publish(instance, example)
    _publish(instance, variant(example, ("duration: 2 years", "duration: 3 years")), hours=1)
    return instance


def test_nothing_published_yet(client: TestClient) -> None:
    r = client.get("/notice", headers={"Accept-Language": "de"})
    assert r.status_code == 404
    assert '<html lang="de">' in r.text
    assert "noch keine Datenschutzhinweise" in r.text
    assert client.get("/notice.json").status_code == 404


def test_english_by_default_with_layered_summary(published: Instance, client: TestClient
                                                 ) -> None:
    r = client.get("/notice")
    assert r.status_code == 200
    assert r.headers["content-language"] == "en"
    assert "accept-language" in r.headers["vary"].lower()
    html = r.text
    assert '<html lang="en">' in html
    order = [html.index(s) for s in ("In short", "What we keep", "Why", "Who else gets it",
                                     "How long", "Your rights", "How to say no", "In detail")]
    assert order == sorted(order)
    assert "Newsletter by email: 3 years after you withdraw consent" in html
    assert "Textline Inc." in html
    assert "EU standard contractual clauses" in html
    assert "Yes, send me the Lindenhof newsletter" in html
    assert "Version 2, published 2026-11-29" in html
    assert "older version" not in html


def test_german_from_accept_language(published: Instance, client: TestClient) -> None:
    r = client.get("/notice", headers={"Accept-Language": "fr-CH, de;q=0.9, en;q=0.8"})
    assert r.headers["content-language"] == "de"
    assert '<html lang="de">' in r.text
    assert "Kurz gesagt" in r.text
    assert "Newsletter per E-Mail: 3 Jahre nach Ihrem Widerruf" in r.text
    assert "Ja, schicken Sie mir den Lindenhof-Newsletter" in r.text


def test_switch_overrides_accept_language(published: Instance, client: TestClient) -> None:
    r = client.get("/notice?lang=en", headers={"Accept-Language": "de"})
    assert r.headers["content-language"] == "en"
    assert re.search(r'<a href="\?lang=de" hreflang="de" lang="de">Deutsch</a>', r.text)
    assert 'lang="en" aria-current="page">English</a>' in r.text


def test_unknown_language_parameter_is_refused(published: Instance, client: TestClient) -> None:
    r = client.get("/notice?lang=english")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "lang"


def test_version_page_marks_older_versions(published: Instance, client: TestClient) -> None:
    r = client.get("/notice/v/1?lang=de")
    assert r.status_code == 200
    assert "Dies ist eine ältere Version" in r.text
    assert "2 Jahre nach Ihrem Widerruf" in r.text
    assert '<a href="/notice/v/1?lang=de" aria-current="page">' in r.text
    assert 'href="/notice/v/1.json"' in r.text
    current = client.get("/notice/v/2")
    assert "older version" not in current.text
    missing = client.get("/notice/v/7")
    assert missing.status_code == 404
    assert "there is no notice version 7" in missing.text


def test_json(published: Instance, client: TestClient) -> None:
    body = client.get("/notice.json").json()
    assert (body["version"], body["current"]) == (2, True)
    assert len(body["sha256"]) == 64
    assert body["notice"]["purposes"][2]["retention"]["duration"] == "3 years"
    assert "publisher" not in json.dumps(body)
    old = client.get("/notice/v/1.json").json()
    assert (old["version"], old["current"]) == (1, False)
    assert old["sha256"] != body["sha256"]
    assert client.get("/notice/v/9.json").status_code == 404


def test_nothing_from_third_parties(published: Instance, client: TestClient) -> None:
    r = client.get("/notice")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert urls
    assert all(not re.match(r"^(https?:)?//", u) for u in urls), urls
    assert "<script" not in r.text
    assert "style=" not in r.text


@pytest.mark.parametrize(("header", "expected"), [
    (None, "en"), ("", "en"), ("de", "de"), ("de-AT,en;q=0.5", "de"), ("en-GB,de;q=0.9", "en"),
    ("fr, it", "en"), ("de;q=0, en;q=0.1", "en"), ("en;q=0.4, de;q=0.8", "de"),
    ("de;q=bogus, en", "en"), ("*", "en")])
def test_pick_language(header: str | None, expected: str) -> None:
    assert pick_language(header) == expected


def test_no_backup_age_is_stated_without_backups(published: Instance, client: TestClient
                                                 ) -> None:
    assert "Encrypted backups" not in client.get("/notice").text
    assert "backups" not in client.get("/notice.json").json()


def test_backup_age_is_stated_once_backups_are_set_up(
        settings: Settings, example: str, tmp_path: Path,
        instance_templates: InstanceTemplates) -> None:
    configured = settings.model_copy(update={"backup_destination": str(tmp_path / "backups")})
    instance_templates.install(configured)
    instance = open_instance(configured)
    try:
        _publish(instance, example)
        days = instance.backup.max_backup_age().days
        assert days == 64  # daily backups kept 7 days, 4 weeks, 3 months
        with TestClient(create_app(instance)) as client:
            english = client.get("/notice").text
            assert f"Encrypted backups hold copies for at most {days} days." in english
            assert "erased again" in english
            german = client.get("/notice", headers={"Accept-Language": "de"}).text
            assert f"höchstens {days} Tage" in german
            assert client.get("/notice.json").json()["backups"] == {"max_age_days": days}
            assert client.get("/notice/v/1.json").json()["backups"] == {"max_age_days": days}
    finally:
        instance.close()
