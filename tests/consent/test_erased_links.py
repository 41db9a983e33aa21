"""An erased person's links outlive the erasure in old mails: every one of them (preference
page and its changes, one-click unsubscribe, cancel, confirm) changes nothing and records
nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.unsubscribe.links import unsubscribe_link
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from tests.conftest import NOW
from tests.consent.conftest import PARTNER_EN, link
from tests.consent.test_preferences import confirmed_person, subject_of

Auth = Callable[..., dict[str, str]]
ELSEWHERE = {"User-Agent": "Another browser/1.0", "Sec-GPC": "1"}


def ledger(instance: Instance) -> tuple[list[str], list[tuple[str, str]]]:
    with instance.db.read() as session:
        events = list(session.execute(select(ConsentEvent.id).order_by(ConsentEvent.id))
                      .scalars())
        states = [(s.purpose, s.state) for s in session.execute(
            select(ConsentState).order_by(ConsentState.purpose)).scalars()]
    return events, states


@dataclass(frozen=True)
class Links:
    page: str
    confirm: str
    cancel: str
    unsubscribe: str


@pytest.fixture
def erased_links(client: TestClient, published: Instance, outbox: MemoryMailSender,
                 auth: Auth) -> Links:
    """Ada's links, from before her erasure: a confirmed purpose and a pending one."""
    page = confirmed_person(client, auth, outbox, "newsletter")
    asked = client.post("/api/v1/signups", headers=auth("signups:write"), json={
        "email": "ada@example.org", "language": "en", "notice_version": 1,
        "consents": [{"purpose": "partner_offers", "text": PARTNER_EN}]})
    assert asked.status_code == 202
    ada = subject_of(published)
    unsubscribe = urlsplit(unsubscribe_link(
        published.settings, published.keyring, subject_id=ada, purpose="newsletter",
        channel="email", now=NOW).url).path
    links = Links(page, link(outbox.sent[-1], "confirm"), link(outbox.sent[-1], "cancel"),
                  unsubscribe)
    published.subjects.erase(published.db, ada, actor="test", now=NOW)
    # the erasure ended both (system tombstones); a link must not start them again
    assert ledger(published)[1] == [("newsletter", "withdrawn"), ("partner_offers", "withdrawn")]
    return links


FOLLOW: dict[str, Callable[[TestClient, Links], Response]] = {
    "preferences save": lambda c, links: c.post(
        links.page, data={"purpose": ["partner_offers"]}, headers=ELSEWHERE),
    "preferences withdraw-all": lambda c, links: c.post(f"{links.page}/withdraw-all",
                                                        headers=ELSEWHERE),
    "preferences page under GPC": lambda c, links: c.get(links.page, headers=ELSEWHERE),
    "one-click unsubscribe": lambda c, links: c.post(
        links.unsubscribe, data={"List-Unsubscribe": "One-Click"}, headers=ELSEWHERE),
    "cancel": lambda c, links: c.post(links.cancel, headers=ELSEWHERE),
    "confirm": lambda c, links: c.post(links.confirm, headers=ELSEWHERE),
}
SAME_ANSWER_ALWAYS = {"one-click unsubscribe", "cancel"}  # RFC 8058: no tell-tale answer
SAYS_ERASED = {"preferences save", "preferences withdraw-all", "preferences page under GPC"}


@pytest.mark.parametrize("way", sorted(FOLLOW))
def test_a_link_of_an_erased_person_changes_and_records_nothing(
        client: TestClient, published: Instance, erased_links: Links, way: str) -> None:
    before = ledger(published)
    answer = FOLLOW[way](client, erased_links)
    assert ledger(published) == before
    if way in SAME_ANSWER_ALWAYS:
        assert answer.status_code == 200
    elif way in SAYS_ERASED:  # the person's own page tells them, without a name or address
        assert answer.status_code == 410
        assert "Your data is erased" in answer.text
    else:  # confirm: the erasure ended the pending request
        assert answer.status_code == 409
        assert "This link is no longer in use" in answer.text
