"""One-click unsubscribe and the consent check over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.consent.ledger.service import current_state, history
from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.unsubscribe.links import unsubscribe_token
from ehrlich.crypto import sign_token
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.factories import new_subject, record, subject_with_consent

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
Auth = Callable[..., dict[str, str]]


def token_for(instance: Instance, subject_id: str, purpose: str = "newsletter") -> str:
    return unsubscribe_token(instance.keyring, subject_id=subject_id, purpose=purpose,
                             channel="email", now=NOW)


def state(instance: Instance, subject_id: str) -> str:
    with instance.db.read() as session:
        return current_state(session, subject_id, "newsletter", "email")


def events(instance: Instance) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def test_one_click_post_withdraws_at_once_without_redirect_or_cookie(
        instance: Instance, client: TestClient) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    response = client.post(f"/unsubscribe/{token_for(instance, ada)}", data=ONE_CLICK,
                           headers={"User-Agent": "MailClient/1", "Sec-GPC": "1"},
                           follow_redirects=False)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert "You are unsubscribed" in response.text
    assert state(instance, ada) == "withdrawn"
    with instance.db.read() as session:
        last = history(session, ada)[-1]
    assert (last.action, last.method, last.actor) == ("withdrawn", "one-click-unsubscribe",
                                                      "subject")
    assert last.token_hash is not None
    assert last.sec_gpc == "1"


def test_multipart_body_works_and_repeating_is_harmless(instance: Instance,
                                                        client: TestClient) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    url = f"/unsubscribe/{token_for(instance, ada)}"
    first = client.post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert first.status_code == 200
    assert state(instance, ada) == "withdrawn"
    count = events(instance)
    second = client.post(url, data=ONE_CLICK)
    assert (second.status_code, second.text) == (200, first.text)
    assert events(instance) == count


def test_unknown_forged_and_cross_purpose_tokens_get_the_same_answer_and_change_nothing(
        instance: Instance, client: TestClient) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    valid_elsewhere = subject_with_consent(instance, "bob@example.org")
    reference = client.post(f"/unsubscribe/{token_for(instance, valid_elsewhere)}",
                            data=ONE_CLICK)
    good = token_for(instance, ada)
    wrong_purpose = sign_token(instance.keyring, purpose="confirm", subject=ada,
                               now=int(NOW.timestamp()), ttl_seconds=None,
                               data={"p": "newsletter", "c": "email"})
    before = events(instance)
    for token in ("nonsense", good[:-22] + good[-22:][::-1], wrong_purpose, "a" * 5000,
                  token_for(instance, "00000000-0000-0000-0000-000000000000")):
        response = client.post(f"/unsubscribe/{token}", data=ONE_CLICK)
        assert (response.status_code, response.text) == (200, reference.text)
    assert events(instance) == before
    assert state(instance, ada) == "active"


def test_unsubscribing_cancels_a_pending_double_opt_in(instance: Instance,
                                                       client: TestClient) -> None:
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    client.post(f"/unsubscribe/{token_for(instance, ada)}", data=ONE_CLICK)
    assert state(instance, ada) == "withdrawn"


def test_get_only_shows_one_button(instance: Instance, client: TestClient) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    token = token_for(instance, ada)
    page = client.get(f"/unsubscribe/{token}", headers={"Accept-Language": "de-DE"})
    assert page.status_code == 200
    assert page.text.count("<button") == 1
    assert f'action="/unsubscribe/{token}"' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert "Abmelden" in page.text
    assert state(instance, ada) == "active"


def test_get_names_the_mails_it_stops(published: Instance, client: TestClient) -> None:
    ada = subject_with_consent(published, "ada@example.org")
    page = client.get(f"/unsubscribe/{token_for(published, ada)}",
                      headers={"Accept-Language": "de-DE"})
    assert "„Newsletter per E-Mail“ abbestellen? Ein Klick genügt." in page.text


def test_a_damaged_link_says_so_and_changes_nothing(instance: Instance,
                                                    client: TestClient) -> None:
    """A link cut off or broken across lines by a mail program: the person is not told
    they are unsubscribed while the mails go on. The POST (what mailbox providers send,
    RFC 8058) still answers every token alike."""
    ada = subject_with_consent(instance, "ada@example.org")
    token = token_for(instance, ada)
    before = events(instance)
    for damaged in (token[:-6], token[:40], token[:-1] + ("A" if token[-1] != "A" else "B")):
        page = client.get(f"/unsubscribe/{damaged}")
        assert page.status_code == 400
        assert "This link is incomplete" in page.text
        assert "Nothing was changed." in page.text
        assert "<button" not in page.text
        assert page.headers["cache-control"] == "no-store"
    assert events(instance) == before
    assert state(instance, ada) == "active"


def test_consent_check(instance: Instance, client: TestClient, auth: Auth) -> None:
    ada = subject_with_consent(instance, "ada@example.org")
    headers = auth("consent:read")
    params = {"email": "ADA@example.org", "purpose": "newsletter", "channel": "email"}
    answer = client.get("/api/v1/consent/check", params=params, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"purpose": "newsletter", "channel": "email", "allowed": True,
                             "state": "active"}
    client.post(f"/unsubscribe/{token_for(instance, ada)}", data=ONE_CLICK)
    after = client.get("/api/v1/consent/check", params=params, headers=headers).json()
    assert (after["allowed"], after["state"]) == (False, "withdrawn")
    unknown = client.get("/api/v1/consent/check", headers=headers,
                         params={**params, "email": "nobody@example.org"}).json()
    assert (unknown["allowed"], unknown["state"]) == (False, "none")


def test_consent_check_refuses_bad_input_and_missing_scope(instance: Instance,
                                                           client: TestClient,
                                                           auth: Auth) -> None:
    params = {"email": "ada@example.org", "purpose": "newsletter"}
    assert client.get("/api/v1/consent/check", params=params).status_code == 401
    assert client.get("/api/v1/consent/check", params=params,
                      headers=auth("subjects:read")).status_code == 403
    headers = auth("consent:read")
    for bad, field in (({"email": "not-an-address"}, "email"),
                       ({"purpose": "Bad Purpose"}, "purpose"),
                       ({"email": "a" * 400 + "@example.org"}, "email")):
        response = client.get("/api/v1/consent/check", params={**params, **bad},
                              headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


def test_consent_history_api(instance: Instance, client: TestClient, auth: Auth) -> None:
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested", evidence={"ip": "198.51.100.23"})
    record(instance, ada, "confirmed")
    headers = auth("consent:read")
    response = client.get(f"/api/v1/subjects/{ada}/consents", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [e["action"] for e in body] == ["requested", "confirmed"]
    assert body[0]["ip_network"] == "198.51.100.0/24"
    assert body[1]["prev_event_id"] == body[0]["id"]
    assert len(body[1]["hash"]) == 64
    missing = client.get("/api/v1/subjects/00000000-0000-0000-0000-000000000000/consents",
                         headers=headers)
    assert missing.status_code == 404
    assert client.get(f"/api/v1/subjects/{ada}/consents").status_code == 401


def test_audience_export_streams_decrypted_addresses_and_is_audited(
        instance: Instance, client: TestClient, auth: Auth) -> None:
    import csv
    import io
    import json

    from ehrlich.audit.models import AuditEntry

    ids = {name: new_subject(instance, f"{name}@example.org") for name in ("a", "b", "c")}
    for subject_id in ids.values():
        record(instance, subject_id, "granted")
    client.post(f"/unsubscribe/{token_for(instance, ids['b'])}", data=ONE_CLICK)
    instance.subjects.erase(instance.db, ids["c"], actor="test", now=NOW)
    headers = auth("audience:read")
    response = client.get("/api/v1/audience", params={"purpose": "newsletter"},
                          headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert rows == [{"id": ids["a"], "email": "a@example.org"}]
    as_csv = client.get("/api/v1/audience", params={"purpose": "newsletter", "format": "csv"},
                        headers=headers)
    assert list(csv.reader(io.StringIO(as_csv.text))) == [["id", "email"],
                                                          [ids["a"], "a@example.org"]]
    with instance.db.read() as session:
        details = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "subject.contacts.read")).scalars().all()
    assert len(details) == 2  # one per pull: a reference, the count and the list of who
    found = [json.loads(d) for d in details]
    assert all(ids["a"] not in d and "a@example.org" not in d for d in details)
    assert [d["batch"].split(":")[0] for d in found] == ["pull", "pull"]
    assert found[0]["batch"] != found[1]["batch"]
    with instance.db.read() as session:
        assert [instance.subjects.read_list(session, d["list"], d["members"])
                for d in found] == [[ids["a"]], [ids["a"]]]
    assert client.get("/api/v1/audience", params={"purpose": "newsletter"},
                      headers=auth("consent:read")).status_code == 403
    bad = client.get("/api/v1/audience", params={"purpose": "newsletter", "channel": "post"},
                     headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "channel"


def test_audience_csv_defuses_formulas_and_ndjson_keeps_any_address(
        instance: Instance, client: TestClient, auth: Auth) -> None:
    import json

    tricky = ["=cmd@example.org", "+1@example.org", "zoë.ünïcode@exämple.org"]
    ids = [new_subject(instance, address) for address in tricky]
    for subject_id in ids:
        record(instance, subject_id, "granted")
    headers = auth("audience:read")
    lines = client.get("/api/v1/audience", params={"purpose": "newsletter"},
                       headers=headers).text.splitlines()
    got = {row["id"]: row["email"] for row in map(json.loads, lines)}
    with instance.db.write() as session:
        expected = {i: instance.subjects.get(session, i, actor="test", now=NOW).email
                    for i in ids}
    assert got == expected
    import csv
    import io

    as_csv = client.get("/api/v1/audience", params={"purpose": "newsletter", "format": "csv"},
                        headers=headers).text
    cells = {row[0]: row[1] for row in csv.reader(io.StringIO(as_csv))}
    assert cells[ids[0]] == "'=cmd@example.org"
    assert cells[ids[1]] == "'+1@example.org"
    assert cells[ids[2]] == expected[ids[2]]


def test_ids_the_database_cannot_hold_are_refused_without_a_500(
        instance: Instance, client: TestClient, auth: Auth) -> None:
    """A NUL character or a huge number in an id: a 4xx, on both databases."""
    headers = auth("consent:read")
    for subject_id in ("%00", "a%00b", "x" * 300):
        response = client.get(f"/api/v1/subjects/{subject_id}/consents", headers=headers)
        assert response.status_code in (404, 422), (subject_id, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for number in ("0", "99999999999999999999"):
        assert client.get(f"/notice/v/{number}").status_code == 404
        assert client.get(f"/notice/v/{number}.json").status_code == 404
