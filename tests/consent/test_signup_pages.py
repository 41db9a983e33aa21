"""The public signup form: unticked boxes with the published texts, no inline code, the
honeypot, the per-address limit with the CAPTCHA, the embeddable page and its origins."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.app import create_app
from ehrlich.captcha.service import solve
from ehrlich.consent.models import ConsentEvent
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.settings import Settings
from tests.consent.conftest import NEWSLETTER_EN, PARTNER_EN


def form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"email": "ada@example.org", "notice_version": "1",
                            "language": "en", "purpose": ["newsletter"], "website": ""}
    data.update(changes)
    return data


def written(instance: Instance) -> int:
    with instance.db.read() as session:
        return session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one()


def test_form_shows_unticked_boxes_with_the_published_texts_and_no_inline_code(
        client: TestClient, published: Instance) -> None:
    page = client.get("/signup")
    assert page.status_code == 200
    html = unescape(page.text)
    assert NEWSLETTER_EN in html
    assert PARTNER_EN in html
    boxes = re.findall(r"<input type=\"checkbox\"[^>]*>", page.text)
    assert len(boxes) == 2
    assert not any("checked" in b for b in boxes)
    assert "repair_sms" not in page.text  # not reachable by email
    assert "<script>" not in page.text
    assert "style=" not in page.text
    assert "<style" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_form_post_without_javascript_sends_the_mail(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    response = client.post("/signup", data=form())
    assert response.status_code == 200
    assert "check your mail" in response.text
    assert len(outbox.sent) == 1
    with published.db.read() as session:
        event = session.execute(select(ConsentEvent)).scalar_one()
    assert (event.method, event.form) == ("form", "http://testserver/signup")


def test_form_errors_name_the_field_and_keep_the_input(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    response = client.post("/signup", data=form(email="nope", purpose=["newsletter"]))
    assert response.status_code == 422
    assert "email" in response.text
    assert 'value="nope"' in response.text
    none_ticked = client.post("/signup", data=form(purpose=[]))
    assert none_ticked.status_code == 422
    assert "purpose" in none_ticked.text
    stale = client.post("/signup", data=form(notice_version="9"))
    assert stale.status_code == 422
    assert "notice_version" in stale.text
    assert written(published) == 0
    assert outbox.sent == []


def _error_ids(html: str) -> dict[str, str]:
    """The id each invalid input's `aria-describedby` names, by the input's id."""
    return dict(re.findall(r'<(?:input|select|textarea)\b[^>]*?\bid="([^"]+)"[^>]*?'
                           r'aria-invalid="true" aria-describedby="([^"]+)"', html))


def _error_text(html: str, error_id: str) -> str:
    found = re.search(rf'<li id="{error_id}">(.*?)</li>', html)
    assert found is not None, error_id
    return unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def _no_internal_words(html: str) -> None:
    assert "Value error" not in html
    assert "String should" not in html
    for field in ("email", "name", "purpose", "notice_version", "consents"):
        assert f"<strong>{field}</strong>" not in html


def test_errors_speak_german_under_the_visible_label_and_describe_their_input(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    """WCAG 3.3.1: the error is text tied to the field (aria-invalid, aria-describedby),
    named by the label a person sees, in the page's language; no internal names."""
    bad_email = client.post("/signup?lang=de", data=form(email="nope", language="de"))
    assert bad_email.status_code == 422
    ids = _error_ids(bad_email.text)
    assert list(ids) == ["email"]
    assert _error_text(bad_email.text, ids["email"]).startswith(
        "E-Mail-Adresse: Das ist keine gültige E-Mail-Adresse.")
    assert "@-sign" not in bad_email.text
    assert "is not a valid" not in bad_email.text
    nothing = client.post("/signup?lang=de", data=form(email=" ", purpose=[], language="de"))
    assert nothing.status_code == 422
    ids = _error_ids(nothing.text)
    assert set(ids) == {"email", "purpose-newsletter", "purpose-partner_offers"}
    assert _error_text(nothing.text, ids["email"]) == (
        "E-Mail-Adresse: Bitte füllen Sie dieses Feld aus.")
    assert _error_text(nothing.text, ids["purpose-newsletter"]) == (
        "Was Sie erhalten möchten: Bitte kreuzen Sie mindestens eines an.")
    assert ids["purpose-newsletter"] == ids["purpose-partner_offers"]
    assert "tick at least one" not in nothing.text
    stale = client.post("/signup?lang=de", data=form(notice_version="9", language="de"))
    assert "Datenschutzhinweise: Die Datenschutzhinweise haben sich geändert" in unescape(
        re.sub(r"<[^>]+>", "", stale.text))
    for page in (bad_email, nothing, stale):
        _no_internal_words(page.text)
    assert written(published) == 0
    assert outbox.sent == []


def test_schema_errors_are_translated_without_pydantic_wording(
        client: TestClient, published: Instance) -> None:
    controls = client.post("/signup?lang=de", data=form(name="Ada\x1b[2J", language="de"))
    assert controls.status_code == 422
    assert _error_text(controls.text, _error_ids(controls.text)["name"]) == (
        "Name: Bitte entfernen Sie Zeilenumbrüche, Tabulatoren und andere unsichtbare "
        "Steuerzeichen.")
    long = client.post("/signup?lang=de", data=form(name="x" * 201, language="de"))
    assert long.status_code == 422
    assert _error_text(long.text, _error_ids(long.text)["name"]) == (
        "Name: Bitte geben Sie höchstens 200 Zeichen ein.")
    english = client.post("/signup", data=form(name="x" * 201))
    assert _error_text(english.text, _error_ids(english.text)["name"]) == (
        "Name: Write at most 200 characters.")
    for page in (controls, long, english):
        _no_internal_words(page.text)
    assert written(published) == 0


def test_a_notice_version_that_is_no_plain_number_is_refused(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    refused = client.post("/signup", data=form(notice_version="²"))  # a digit int() refuses
    assert refused.status_code == 422
    assert "notice_version" in refused.text
    assert written(published) == 0


def test_honeypot_gets_the_same_answer_and_writes_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    person = client.post("/signup", data=form(email="bob@example.org"))
    bot = client.post("/signup", data=form(website="http://spam.example"))
    assert bot.status_code == person.status_code == 200
    assert bot.text == person.text
    assert written(published) == 1
    assert len(outbox.sent) == 1


def test_automated_traffic_needs_the_captcha_then_is_limited(
        tmp_path: Path, published: Instance, settings: Settings) -> None:
    published.close()
    limited = replace(open_instance(settings.model_copy(update={"signup_captcha_after": 1,
                                                                "signup_per_hour": 3})),
                      mail=MemoryMailSender())
    try:
        with TestClient(create_app(limited)) as client:
            assert client.post("/signup", data=form()).status_code == 200
            second = client.post("/signup", data=form(email="bob@example.org"))
            assert second.status_code == 429
            assert "data-altcha-challenge" in second.text
            assert '<script src="/static/captcha.js"' in second.text
            assert written(limited) == 1
            raw = re.search(r'data-altcha-challenge="([^"]+)"', second.text)
            assert raw is not None
            payload = solve(json.loads(unescape(raw.group(1))))
            third = client.post("/signup", data=form(email="bob@example.org", altcha=payload))
            assert third.status_code == 200
            assert written(limited) == 2
            replayed = client.post("/signup", data=form(email="cy@example.org", altcha=payload))
            assert replayed.status_code == 429
            assert replayed.headers["retry-after"] == "3600"
            assert written(limited) == 2
    finally:
        limited.close()


def test_embed_page_may_be_framed_by_the_listed_origins_only(
        published: Instance, settings: Settings) -> None:
    published.close()
    shop = replace(open_instance(settings.model_copy(update={
        "signup_origins": "https://shop.example https://blog.example"})),
        mail=MemoryMailSender())
    try:
        with TestClient(create_app(shop)) as client:
            page = client.get("/embed/signup")
            csp = page.headers["content-security-policy"]
            assert "frame-ancestors https://shop.example https://blog.example" in csp
            assert "x-frame-options" not in page.headers
            assert 'action="/embed/signup"' in page.text
            assert client.get("/signup").headers["x-frame-options"] == "DENY"
            ok = client.post("/signup", data=form(), headers={"Origin": "https://shop.example"})
            assert ok.status_code == 200
            bad = client.post("/signup", data=form(email="eve@example.org"),
                              headers={"Origin": "https://evil.example"})
            assert bad.status_code == 403
            assert written(shop) == 1
            embedded = client.post("/embed/signup", data=form(email="bob@example.org"),
                                   headers={"Origin": "http://testserver"})
            assert embedded.status_code == 200
            assert written(shop) == 2
    finally:
        shop.close()


def test_gpc_signal_is_honoured_and_said_so_on_the_page(
        client: TestClient, published: Instance, outbox: MemoryMailSender) -> None:
    response = client.post("/signup", data=form(purpose=["partner_offers"]),
                           headers={"Sec-GPC": "1"})
    assert response.status_code == 200
    assert "Global Privacy Control" in response.text
    assert written(published) == 0
    assert outbox.sent == []


def test_gpc_json(client: TestClient) -> None:
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    data = response.json()
    assert data["gpc"] is True
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["lastUpdate"])
