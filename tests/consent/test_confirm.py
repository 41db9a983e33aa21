"""Following the confirmation mail: GET shows a button, POST confirms; replays, forged,
expired, cross-purpose and stale links change nothing; unanswered requests expire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.app import create_app
from ehrlich.consent.ledger.service import current_state
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.signup.double_opt_in import erase_expired_signups
from ehrlich.consent.signup.expiry import expire_unconfirmed
from ehrlich.consent.signup.links import confirm_token, preferences_token
from ehrlich.consent.unsubscribe.links import unsubscribe_token
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.subjects.models import STATE_ERASED, Subject
from ehrlich.web import deps
from tests.conftest import NOW
from tests.consent.conftest import NEWSLETTER_EN, link
from tests.factories import new_subject, record

Auth = Callable[..., dict[str, str]]


def sign_up(client: TestClient, auth: Auth, email: str = "ada@example.org") -> None:
    response = client.post("/api/v1/signups", headers=auth("signups:write"), json={
        "email": email, "language": "en", "notice_version": 1,
        "consents": [{"purpose": "newsletter", "text": NEWSLETTER_EN}]})
    assert response.status_code == 202, response.text


def subject_of(instance: Instance) -> str:
    with instance.db.read() as session:
        return session.execute(select(Subject.id)).scalar_one()


def state(instance: Instance, subject_id: str) -> str:
    with instance.db.read() as session:
        return current_state(session, subject_id, "newsletter", "email")


def events(instance: Instance) -> int:
    with instance.db.read() as session:
        return session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one()


def test_get_only_shows_a_button_post_confirms_replay_is_harmless(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    sign_up(client, auth)
    path = link(outbox.sent[0], "confirm")
    ada = subject_of(published)
    page = client.get(path)
    assert page.status_code == 200
    assert f'action="{path}?lang=en"' in page.text  # the answer stays in the page's language
    assert state(published, ada) == "requested"
    done = client.post(path, headers={"User-Agent": "Mail/1.0"})
    assert done.status_code == 200
    assert "/preferences/" in done.text
    assert state(published, ada) == "active"
    with published.db.read() as session:
        confirmed = session.execute(select(ConsentEvent).where(
            ConsentEvent.action == "confirmed")).scalar_one()
    assert confirmed.method == "email-confirmation"
    assert confirmed.text_shown == NEWSLETTER_EN  # the snapshot of what was asked
    assert confirmed.token_hash is not None
    assert confirmed.user_agent_hash is not None
    assert "mail_template" in confirmed.extra
    before = events(published)
    again = client.post(path)
    assert again.status_code == 200
    assert events(published) == before


def test_cancel_link_withdraws_the_pending_request(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    sign_up(client, auth)
    ada = subject_of(published)
    mail = outbox.sent[0]
    assert mail.unsubscribe is not None
    cancel = mail.unsubscribe.url.removeprefix("http://testserver")
    page = client.get(cancel)  # what a person sees who opens the link: what it does
    assert "Do you want to cancel this request? Then we send you nothing." in page.text
    assert ">Cancel the request</button>" in page.text
    assert state(published, ada) == "requested"  # opening it changes nothing
    response = client.post(cancel, data={"List-Unsubscribe": "One-Click"},
                           follow_redirects=False)
    assert response.status_code == 200
    assert state(published, ada) == "withdrawn"
    stale = client.post(link(mail, "confirm"))
    assert stale.status_code == 409
    assert state(published, ada) == "withdrawn"
    forged = client.post("/cancel/AAAA.BBBB", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 200  # the same answer for anything
    assert forged.text.replace(cancel, "") == response.text.replace(cancel, "")


def test_a_new_request_makes_the_old_link_stale(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    sign_up(client, auth)
    sign_up(client, auth)
    ada = subject_of(published)
    old, new = (link(m, "confirm") for m in outbox.sent)
    assert client.post(old).status_code == 409
    assert state(published, ada) == "requested"
    assert client.post(new).status_code == 200
    assert state(published, ada) == "active"


@pytest.mark.parametrize("kind", ["forged", "expired", "unsubscribe", "preferences"])
def test_bad_links_get_a_clear_page_and_change_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth,
        kind: str) -> None:
    sign_up(client, auth)
    ada = subject_of(published)
    real = link(outbox.sent[0], "confirm").rsplit("/", 1)[1]
    token = {
        "forged": real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),
        "expired": confirm_token(published.keyring, subject_id=ada, channel="email",
                                 requests={"newsletter": "x"}, template_hash="",
                                 now=NOW - timedelta(days=31), days=30),
        # tokens made for another use never confirm (each use has its own key)
        "unsubscribe": unsubscribe_token(published.keyring, subject_id=ada,
                                         purpose="newsletter", channel="email", now=NOW),
        "preferences": preferences_token(published.keyring, subject_id=ada, now=NOW),
    }[kind]
    before = events(published)
    for response in (client.get(f"/confirm/{token}"), client.post(f"/confirm/{token}")):
        assert response.status_code == (410 if kind == "expired" else 400)
        assert "Nothing was changed" in response.text
    assert events(published) == before
    assert state(published, ada) == "requested"


def test_confirm_for_another_purposes_request_changes_nothing(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    sign_up(client, auth)
    ada = subject_of(published)
    with published.db.read() as session:
        request_id = session.execute(select(ConsentEvent.id)).scalar_one()
    token = confirm_token(published.keyring, subject_id=ada, channel="email",
                          requests={"partner_offers": request_id}, template_hash="",
                          now=NOW, days=30)
    app = create_app(published)
    app.dependency_overrides[deps.get_now] = lambda: NOW
    with TestClient(app) as other:
        assert other.post(f"/confirm/{token}").status_code == 409
    assert state(published, ada) == "requested"


def test_unconfirmed_requests_expire_and_signup_only_people_are_erased(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    sign_up(client, auth, "ada@example.org")
    customer = new_subject(published, "bob@example.org")  # came through the shop, not signup
    record(published, customer, "requested")
    sign_up(client, auth, "cy@example.org")
    with published.db.write() as session:
        [found] = published.subjects.find(session, email="cy@example.org", actor="test",
                                          now=NOW)
    cy = found.id
    client.post(link(outbox.sent[-1], "confirm"))  # cy confirmed: stays
    assert erase_expired_signups(published.db, published.subjects, now=NOW) == 0
    later = NOW + timedelta(days=31)
    assert expire_unconfirmed(published.db, published.audit, older_than=timedelta(days=30),
                              now=later) == 2
    assert erase_expired_signups(published.db, published.subjects, now=later) == 1
    with published.db.read() as session:
        states = dict(session.execute(select(Subject.id, Subject.state)).all())
    assert sorted(states.values()) == ["active", "active", STATE_ERASED]
    assert states[customer] == "active"
    assert states[cy] == "active"
    assert state(published, customer) == "expired"


def test_expiry_job_is_registered(published: Instance) -> None:
    assert "consent.expire_unconfirmed" in published.jobs.task_names


def test_unsubscribed_and_erased_addresses_go_through_double_opt_in_again(
        client: TestClient, published: Instance, outbox: MemoryMailSender, auth: Auth) -> None:
    from ehrlich.consent.ledger import suppression

    sign_up(client, auth)
    ada = subject_of(published)
    client.post(link(outbox.sent[0], "confirm"))
    mail = outbox.sent[0]
    assert mail.unsubscribe is not None
    client.post(mail.unsubscribe.url.removeprefix("http://testserver"))
    index = published.subjects.email_index("ada@example.org")
    with published.db.read() as session:
        assert suppression.is_suppressed(session, index, "newsletter")
    sign_up(client, auth)  # the person asks again: pending, not active, still suppressed
    assert state(published, ada) == "requested"
    with published.db.read() as session:
        assert suppression.is_suppressed(session, index, "newsletter")
    client.post(link(outbox.sent[-1], "confirm"))
    assert state(published, ada) == "active"
    with published.db.read() as session:
        assert not suppression.is_suppressed(session, index, "newsletter")
    with published.db.write() as session:
        suppression.suppress_everywhere(session, index, reason="erased", now=NOW)
    published.subjects.erase(published.db, ada, actor="test", now=NOW)
    sign_up(client, auth)
    with published.db.read() as session:
        fresh = session.execute(select(Subject.id).where(Subject.state == "active")
                                ).scalar_one()
    assert fresh != ada
    assert state(published, fresh) == "requested"
    assert len(outbox.sent) == 3
