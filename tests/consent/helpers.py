"""Test data for the consent ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.app import create_app
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.signup.offers import offer_map
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.settings import Settings
from ehrlich.web.deps import get_now
from tests.conftest import NOW


@contextmanager
def reopened(instance: Instance, settings: Settings, **changes: Any
             ) -> Iterator[tuple[Instance, MemoryMailSender, TestClient]]:
    """The instance again, under settings with `changes`, with an outbox and a client on the
    fixed clock; `client_host` gives the client's address."""
    host = changes.pop("client_host", "testclient")
    instance.close()
    outbox = MemoryMailSender()
    opened = replace(open_instance(settings.model_copy(update=changes)), mail=outbox)
    app = create_app(opened)
    app.dependency_overrides[get_now] = lambda: NOW
    try:
        with TestClient(app, raise_server_exceptions=False, client=(host, 50000)) as client:
            yield opened, outbox, client
    finally:
        opened.close()


def consent_texts(instance: Instance, language: str) -> dict[str, str]:
    """The published consent texts in one language, by purpose."""
    with instance.db.read() as session:
        return {p: o.text for p, o in offer_map(instance.notices.current(session),
                                                 language).items()}


def event_count(instance: Instance) -> int:
    with instance.db.read() as session:
        return session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one()
