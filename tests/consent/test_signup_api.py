"""POST /api/v1/signups: published texts only, double opt-in, no enumeration, nothing
written on bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.consent.models import ConsentEvent
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.subjects.models import Subject
from tests.consent.conftest import NEWSLETTER_EN, PARTNER_EN

Auth = Callable[..., dict[str, str]]


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"email": "ada@example.org", "language": "en", "notice_version": 1,
                            "consents": [{"purpose": "newsletter", "text": NEWSLETTER_EN}]}
    data.update(changes)
    return data


def counts(instance: Instance) -> tuple[int, int]:
    with instance.db.read() as session:
        return (session.execute(select(func.count()).select_from(Subject)).scalar_one(),
                session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def test_signup_records_requested_and_sends_one_confirmation(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    response = client.post("/api/v1/signups", json=body(), headers=auth("signups:write"))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "confirmation-sent"
    [mail] = outbox.sent
    assert mail.to == "ada@example.org"
    assert "/confirm/" in mail.text
    assert mail.html is not None
    assert "/confirm/" in mail.html
    assert mail.unsubscribe is not None
    assert "/cancel/" in mail.unsubscribe.url
    assert mail.category == "transactional"
    with published.db.read() as session:
        [event] = session.execute(select(ConsentEvent)).scalars().all()
    assert (event.action, event.method, event.text_shown) == ("requested", "api", NEWSLETTER_EN)
    assert event.notice_version == 1
    assert event.notice_hash is not None
    assert event.user_agent_hash is not None  # the client's user agent, hashed


def test_known_and_new_addresses_get_the_same_answer(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    headers = auth("signups:write")
    first = client.post("/api/v1/signups", json=body(), headers=headers)
    second = client.post("/api/v1/signups", json=body(), headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert counts(published)[0] == 1


def test_german_signup_needs_the_german_text(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    response = client.post("/api/v1/signups", json=body(language="de"),
                           headers=auth("signups:write"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "consents[0].text"


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-address"}, "email"),
    ({"notice_version": 7}, "notice_version"),
    ({"notice_hash": "sha256:00"}, "notice_hash"),
    ({"consents": [{"purpose": "lottery", "text": "x"}]}, "consents[0].purpose"),
    ({"consents": [{"purpose": "orders", "text": "x"}]}, "consents[0].purpose"),
    ({"consents": [{"purpose": "newsletter", "text": "Yes, spam me."}]}, "consents[0].text"),
    ({"email": "a" * 400 + "@example.org"}, "email"),
    ({"name": "n" * 201}, "name"),
    ({"consents": []}, "consents"),
    ({"form": "shop\x00page"}, "form"),
    ({"notice_hash": "sha256:\x00"}, "notice_hash"),
])
def test_bad_input_names_the_field_and_writes_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth,
        changes: dict[str, Any], field: str) -> None:
    response = client.post("/api/v1/signups", json=body(**changes),
                           headers=auth("signups:write"))
    assert response.status_code == 422, response.text
    assert any(e["field"].endswith(field) for e in response.json()["errors"]), response.json()
    assert counts(published) == (0, 0)
    assert outbox.sent == []


def test_signup_needs_its_scope(client: TestClient, published: Instance, auth: Auth) -> None:
    response = client.post("/api/v1/signups", json=body(), headers=auth("consent:read"))
    assert response.status_code == 403


def test_gpc_never_requests_purposes_shared_with_third_party_controllers(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    response = client.post("/api/v1/signups", json=body(consents=[
        {"purpose": "newsletter", "text": NEWSLETTER_EN},
        {"purpose": "partner_offers", "text": PARTNER_EN}]),
        headers={**auth("signups:write"), "Sec-GPC": "1"})
    assert response.status_code == 202
    assert response.json()["gpc_honoured"] == ["partner_offers"]
    with published.db.read() as session:
        events = session.execute(select(ConsentEvent)).scalars().all()
    assert [(e.purpose, e.sec_gpc) for e in events] == [("newsletter", "1")]


def test_gpc_other_values_are_not_the_signal(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    response = client.post("/api/v1/signups", json=body(consents=[
        {"purpose": "partner_offers", "text": PARTNER_EN}]),
        headers={**auth("signups:write"), "Sec-GPC": "true"})
    assert response.json()["gpc_honoured"] == []
    assert counts(published)[1] == 1
