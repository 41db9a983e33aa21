"""The staff proof page: in the console, for roles with the audit permission only."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.consent.models import ConsentEvent
from ehrlich.instance.service import Instance
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    open_session,
    settings,
)
from tests.factories import TEXT, Staff, new_subject, record


def test_auditor_sees_history_and_printable_proof_marketer_does_not(
        instance: Instance, console: TestClient, make_staff: Callable[..., Staff],  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    with instance.db.read() as session:
        confirmed = session.execute(select(ConsentEvent.id).where(
            ConsentEvent.action == "confirmed")).scalar_one()
    auditor = make_staff("auditor")
    open_session(console, auditor, clock.now)
    listing = console.get(f"/admin/consents?subject={ada}")
    assert listing.status_code == 200
    assert f"/admin/consents/proof/{confirmed}" in listing.text
    assert 'href="/admin/consents"' in listing.text  # in the navigation
    proof = console.get(f"/admin/consents/proof/{confirmed}")
    assert proof.status_code == 200
    assert TEXT in unescape(proof.text)
    assert "a link mailed to this address" in proof.text
    german = console.get(f"/admin/consents/proof/{confirmed}?lang=de")
    assert "Nachweis der Einwilligung" in german.text
    assert "Rechtsgrundlage" in german.text
    assert "Legal basis" not in german.text
    assert console.get("/admin/consents/proof/nope").status_code == 404
    console.cookies.clear()
    marketer = make_staff("marketer")
    open_session(console, marketer, clock.now)
    assert console.get(f"/admin/consents/proof/{confirmed}").status_code == 403
