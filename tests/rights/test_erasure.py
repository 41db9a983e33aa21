"""Erasure from `/my-data`: one confirmation step, then the person is gone (pages and
API say so, the raw database holds no plaintext of them); or, where a legal obligation
keeps some data, the page says what, why and until when, and the rest is erased."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput
from ehrlich.instance.service import Instance
from ehrlich.rights.links import my_data_token
from ehrlich.rights.service import RightsService
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.subjects.test_at_rest import _stored_bytes

NEEDLES = [b"hedy.lamarr", b"Hedwig Kiesler", b"Frequenzsprung", b"5550199"]


def test_self_service_erasure_leaves_nothing_readable(
        client: TestClient, published: Instance, rights: RightsService,
        auth: Callable[..., dict[str, str]]) -> None:
    hedy = new_subject(published, "hedy.lamarr@example.org", name="Hedwig Kiesler",
                       phone="+1 202 555 0199", attributes={"idea": "Frequenzsprung"})
    record(published, hedy, "granted")
    token = my_data_token(published.keyring, subject_id=hedy, now=NOW)
    assert client.get(f"/my-data/{token}").status_code == 200
    ask = client.get(f"/my-data/{token}/erase")
    assert ask.status_code == 200
    assert 'name="confirm" value="yes"' in ask.text
    # without the confirmation nothing happens
    assert client.post(f"/my-data/{token}/erase").status_code == 200
    assert client.get(f"/my-data/{token}").status_code == 200
    done = client.post(f"/my-data/{token}/erase", data={"confirm": "yes"})
    assert done.status_code == 200
    assert "Your data is erased" in done.text
    again = client.get(f"/my-data/{token}")
    assert again.status_code == 410
    assert "Your data is erased" in again.text
    assert client.get(f"/my-data/{token}/data.json").status_code == 410
    assert client.post(f"/my-data/{token}/erase", data={"confirm": "yes"}).status_code == 410
    api = client.get(f"/api/v1/subjects/{hedy}", headers=auth("subjects:read"))
    assert api.status_code == 410
    assert [(r.kind, r.status, r.result) for r in rights.requests_of(published.db, hedy)
            if r.kind == "erasure"] == [("erasure", "done", "erased")]
    if published.db.is_sqlite:
        published.db.purge_deleted_rows("subjects")
    raw = _stored_bytes(published)
    assert [n for n in NEEDLES if n.lower() in raw.lower()] == []


def test_a_legal_obligation_keeps_what_it_needs_and_the_page_says_until_when(
        client: TestClient, published: Instance, rights: RightsService) -> None:
    ada = new_subject(published, "ada@example.org", name="Ada Lovelace", phone="+4930123456",
                      attributes={"invoices": "R-2026-17", "hobby": "poetry"})
    record(published, ada, "granted")
    with published.db.write() as session:  # an invoice, kept by law (the "bookkeeping" purpose)
        record_consent(session, published.audit, ConsentInput(
            subject_id=ada, purpose="bookkeeping", channel="none", action="granted",
            method="api", legal_basis="legal_obligation"), actor="test", now=NOW)
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    ask = client.get(f"/my-data/{token}/erase")
    assert "Invoices and tax records" in ask.text
    assert "2036-12-" in ask.text  # 10 years (counted as at most 366 days each) from NOW
    done = client.post(f"/my-data/{token}/erase", data={"confirm": "yes"})
    assert done.status_code == 200
    assert "except what the law makes us keep" in done.text
    with published.db.read() as session:
        left = published.subjects.get(session, ada, actor="test", now=NOW, audited=False)
    assert left.name == "Ada Lovelace"  # "name" is a category of the bookkeeping purpose
    assert left.attributes == {"invoices": "R-2026-17"}
    assert left.phone is None
    assert left.email is None
    page = client.get(f"/my-data/{token}")
    assert page.status_code == 200
    assert "withdrawn" in page.text
    [request] = [r for r in rights.requests_of(published.db, ada) if r.kind == "erasure"]
    assert request.result is not None
    assert "bookkeeping until 2036-" in request.result
