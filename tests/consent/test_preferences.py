"""The preference centre: states, changes, withdraw all, GPC, and the person's proof."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.consent.ledger.service import current_state, verify_chain
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.signup.links import preferences_token
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.notices.example import example_notice_text
from tests.conftest import NOW
from tests.consent.conftest import NEWSLETTER_EN, PARTNER_EN, link
from tests.factories import new_subject, publish_notice

Auth = Callable[..., dict[str, str]]


def confirmed_person(client: TestClient, auth: Auth, outbox: MemoryMailSender,
                     *purposes: str) -> str:
    texts = {"newsletter": NEWSLETTER_EN, "partner_offers": PARTNER_EN}
    response = client.post("/api/v1/signups", headers=auth("signups:write"), json={
        "email": "ada@example.org", "language": "en", "notice_version": 1,
        "consents": [{"purpose": p, "text": texts[p]} for p in purposes]})
    assert response.status_code == 202
    done = client.post(link(outbox.sent[-1], "confirm"))
    match = re.search(r'href="(/preferences/[^"]+)"', done.text)
    assert match is not None
    return unescape(match.group(1))


def states(instance: Instance, subject_id: str) -> dict[str, str]:
    with instance.db.read() as session:
        return {p: current_state(session, subject_id, p, "email")
                for p in ("newsletter", "partner_offers")}


GPC_WITHDREW = ("Your browser sent a Global Privacy Control signal. We honoured it: purposes "
                "shared with other companies are switched off.")
GPC_HOLDS_BACK = ("Your browser sends a Global Privacy Control signal. Purposes shared with "
                  "other companies stay switched off while it does.")
GPC_NOTHING_SHARED = ("Your browser sends a Global Privacy Control signal. None of the purposes "
                      "here shares your data with other companies, so the signal changes nothing "
                      "on this page.")


def gpc_sentences(html: str) -> list[str]:
    """Which of the three GPC sentences a preference page says."""
    text = unescape(html)
    return [s for s in (GPC_WITHDREW, GPC_HOLDS_BACK, GPC_NOTHING_SHARED) if s in text]


def subject_of(instance: Instance) -> str:
    with instance.db.read() as session:
        return session.execute(select(ConsentEvent.subject_id)).scalars().first() or ""


def test_page_shows_each_purpose_with_text_state_and_data_request_section(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    page = client.get(page_url)
    assert page.status_code == 200
    html = unescape(page.text)
    assert NEWSLETTER_EN in html
    assert PARTNER_EN in html
    assert re.search(r'value="newsletter"\s+checked', page.text)
    assert not re.search(r'value="partner_offers"\s+checked', page.text)
    assert 'id="data-requests"' in page.text


def test_changes_and_withdraw_all(client: TestClient, published: Instance,
                                  outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    ada = subject_of(published)
    saved = client.post(page_url, data={"purpose": ["partner_offers"]})
    assert saved.status_code == 200
    assert states(published, ada) == {"newsletter": "withdrawn", "partner_offers": "active"}
    both = client.post(page_url, data={"purpose": ["partner_offers", "newsletter"]})
    assert states(published, ada) == {"newsletter": "active", "partner_offers": "active"}
    # The answer to a change shows what a fresh visit shows: states, ticks, proof links.
    shown = r'<strong>[^<]+</strong>|checked|/proof/[0-9a-f-]+'
    assert re.findall(shown, both.text) == re.findall(shown, client.get(page_url).text)
    assert len(re.findall(r"/proof/", both.text)) == 2
    with published.db.read() as session:
        request = session.execute(select(ConsentEvent).where(
            ConsentEvent.purpose == "partner_offers",
            ConsentEvent.action == "requested")).scalar_one()
        assert request.text_shown == PARTNER_EN
        assert verify_chain(session, ada, "newsletter", "email")
    gone = client.post(f"{page_url}/withdraw-all")
    assert gone.status_code == 200
    assert states(published, ada) == {"newsletter": "withdrawn", "partner_offers": "withdrawn"}


def test_gpc_withdraws_third_party_purposes_on_the_visit_and_says_so(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter", "partner_offers")
    ada = subject_of(published)
    assert states(published, ada)["partner_offers"] == "active"
    page = client.get(page_url, headers={"Sec-GPC": "1"})
    assert gpc_sentences(page.text) == [GPC_WITHDREW]
    assert re.search(r'value="partner_offers"\s+disabled', page.text)
    assert states(published, ada) == {"newsletter": "active", "partner_offers": "withdrawn"}
    saved = client.post(page_url, data={"purpose": ["partner_offers", "newsletter"]},
                        headers={"Sec-GPC": "1"})
    assert states(published, ada)["partner_offers"] == "withdrawn"
    # Nothing more was withdrawn by this answer: the page says what the signal holds back.
    assert gpc_sentences(saved.text) == [GPC_HOLDS_BACK]
    with published.db.read() as session:
        withdrawal = session.execute(select(ConsentEvent).where(
            ConsentEvent.purpose == "partner_offers",
            ConsentEvent.action == "withdrawn")).scalar_one()
    assert withdrawal.sec_gpc == "1"


def test_gpc_with_nothing_to_withdraw_says_what_it_holds_back(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    page = client.get(page_url, headers={"Sec-GPC": "1"})
    assert gpc_sentences(page.text) == [GPC_HOLDS_BACK]
    assert re.search(r'value="partner_offers"\s+disabled', page.text)
    assert states(published, subject_of(published))["newsletter"] == "active"
    assert gpc_sentences(client.get(page_url).text) == []  # no signal, no sentence


def test_gpc_where_no_purpose_is_shared_says_it_changes_nothing(
        client: TestClient, instance: Instance, sent: MemoryMailSender, auth: Auth) -> None:
    publish_notice(instance, example_notice_text())  # no purpose with a third-party controller
    page_url = confirmed_person(client, auth, sent, "newsletter")
    page = client.get(page_url, headers={"Sec-GPC": "1"})
    assert gpc_sentences(page.text) == [GPC_NOTHING_SHARED]
    assert "disabled" not in page.text
    assert states(instance, subject_of(instance))["newsletter"] == "active"
    german = client.get(f"{page_url}?lang=de", headers={"Sec-GPC": "1"})
    assert "Keiner der Zwecke hier gibt Ihre Daten an andere Unternehmen weiter" in unescape(
        german.text)


def test_gpc_at_confirmation_withdraws_instead_of_confirming(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    client.post("/api/v1/signups", headers=auth("signups:write"), json={
        "email": "ada@example.org", "language": "en", "notice_version": 1,
        "consents": [{"purpose": "partner_offers", "text": PARTNER_EN}]})
    done = client.post(link(outbox.sent[0], "confirm"), headers={"Sec-GPC": "1"})
    assert "Global Privacy Control" in done.text
    assert states(published, subject_of(published))["partner_offers"] == "withdrawn"


def test_person_sees_a_printable_proof_of_their_own_consent_only(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    page = client.get(page_url)
    match = re.search(r'href="(/preferences/[^"]+/proof/[^"]+)"', page.text)
    assert match is not None
    proof = client.get(unescape(match.group(1)))
    assert proof.status_code == 200
    text = unescape(proof.text)
    assert NEWSLETTER_EN in text
    assert "Newsletter by email / email" in text  # the purpose's title, not its id
    assert "asked for, waiting for confirmation" in text
    assert "confirmed" in text
    assert "a link mailed to this address" in text
    assert "confirmation mail template:" in text
    assert "Chain verifies</th><td>yes" in proof.text
    assert "/static/ehrlich.css" in proof.text  # its @media print rules
    bob = new_subject(published, "bob@example.org")
    other = preferences_token(published.keyring, subject_id=bob, now=NOW)
    event_id = match.group(1).rsplit("/", 1)[1]
    assert client.get(f"/preferences/{other}/proof/{event_id}").status_code == 400


def test_proof_speaks_the_readers_language_and_keeps_the_text_shown_as_stored(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    match = re.search(r'href="(/preferences/[^"]+/proof/[^"]+)"', client.get(page_url).text)
    assert match is not None
    for german in (client.get(f"{unescape(match.group(1))}?lang=de"),
                   client.get(unescape(match.group(1)), headers={"Accept-Language": "de"})):
        assert german.status_code == 200
        text = unescape(german.text)
        for word in ("Betroffene Person", "Zweck / Kanal", "Newsletter per E-Mail / E-Mail",
                     "Rechtsgrundlage", "Ihre Einwilligung", "Ereigniskette ist unversehrt",
                     "Ereignisse", "Aktion", "angefragt, wartet auf Bestätigung", "bestätigt",
                     "ein an diese Adresse gesandter Link", "Voreinstellung: nicht angekreuzt",
                     "Vorlage der Bestätigungsmail:", "Bestätigungsmail gesendet am:",
                     "Hash des Ereignisses"):
            assert word in text, word
        for english in ("Legal basis", "Chain verifies", "Events", "Purpose / channel",
                        "Method", "requested", "email-confirmation", "default:", "unticked",
                        "mail_template", "mail_sent_at", "event <code", "newsletter /"):
            assert english not in text, english
        assert NEWSLETTER_EN in text  # what the person was shown is the evidence: as stored


def test_forged_preference_links_are_refused(client: TestClient, published: Instance) -> None:
    assert client.get("/preferences/AAAA.BBBB").status_code == 400
    assert client.post("/preferences/AAAA.BBBB/withdraw-all").status_code == 400


def test_changes_posted_from_another_site_are_refused_and_change_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    ada = subject_of(published)
    before = states(published, ada)
    stranger = {"Origin": "https://evil.example"}
    assert client.post(page_url, data={}, headers=stranger).status_code == 400
    assert client.post(f"{page_url}/withdraw-all", headers=stranger).status_code == 400
    assert states(published, ada) == before
    assert client.post(page_url, data={}, headers={"Origin": "http://testserver"}
                       ).status_code == 200
    assert states(published, ada)["newsletter"] == "withdrawn"


def test_a_preference_link_of_an_erased_person_changes_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    page_url = confirmed_person(client, auth, outbox, "newsletter")
    ada = subject_of(published)
    published.subjects.erase(published.db, ada, actor="test", now=NOW)
    before = states(published, ada)
    response = client.post(page_url, data={"purpose": ["newsletter", "partner_offers"]})
    assert response.status_code == 410
    assert "Your data is erased" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert ada not in response.text
    assert states(published, ada) == before
