"""`/my-data`: the same answer for known and unknown addresses, the mailed link, the
report page and its downloads, corrections, and the link refused when expired,
tampered with or made for another use."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.signup.links import preferences_token
from ehrlich.instance.service import Instance
from ehrlich.rights.links import my_data_token
from ehrlich.rights.service import RightsService
from ehrlich.web.deps import get_now
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.mail.smtp_server import SmtpServer
from tests.rights.conftest import mailed_link, mails_to


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_a_mail(
        client: TestClient, published: Instance, smtp: SmtpServer) -> None:
    new_subject(published, "ada@example.org", name="Ada Lovelace")
    known = client.post("/my-data", data={"email": "ada@example.org", "language": "en"})
    unknown = client.post("/my-data", data={"email": "nobody@example.org", "language": "en"})
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text)
    assert known.status_code == 200
    assert "Please check your mail" in known.text
    path = mailed_link(published, smtp, "ada@example.org")
    assert mails_to(smtp, "nobody@example.org") == []
    page = client.get(path)
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text
    assert "ada@example.org" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_report_page_shows_consents_with_their_texts_and_retention(
        client: TestClient, published: Instance, rights: RightsService) -> None:
    ada = new_subject(published, "ada@example.org", attributes={"city": "Köln"})
    record(published, ada, "granted", notice_version=1)
    page = client.get(f"/my-data/{my_data_token(published.keyring, subject_id=ada, now=NOW)}")
    assert page.status_code == 200
    assert "Yes, send me the weekly newsletter by email." in page.text
    assert "2 years" in page.text  # the newsletter's retention in the published notice
    assert "Postwerk Mailing GmbH" in page.text  # its recipient
    assert "Köln" in page.text
    assert "/data.json" in page.text
    assert "/data.csv" in page.text
    german = client.get(f"/my-data/{my_data_token(published.keyring, subject_id=ada, now=NOW)}"
                        "?lang=de")
    assert "Ihre Daten" in german.text
    assert "2 Jahre nach Ihrem Widerruf" in german.text  # not "2 years nach …"
    # each consent event names the purpose by its title and says how it was given in
    # words, not by the ledger's ids ("newsletter (email)", "api")
    consents = page.text.split('id="consents-title"')[1]
    assert "newsletter (email)" not in consents
    assert "from our systems (API)" in consents
    assert "years" not in german.text


def test_downloads_are_json_and_defused_csv(
        client: TestClient, published: Instance) -> None:
    ada = new_subject(published, "ada@example.org", name="=HYPERLINK(\"x\")",
                      attributes={"note": "+cmd|' /C calc'!A0", "street": "Müllerstraße 1"})
    record(published, ada, "granted")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    as_json = client.get(f"/my-data/{token}/data.json")
    assert as_json.status_code == 200
    body = json.loads(as_json.text)
    assert body["format"] == "ehrlich-access-report/1"
    assert body["email"] == "ada@example.org"
    assert body["consents"][0]["text_shown"].startswith("Yes, send me")
    as_csv = client.get(f"/my-data/{token}/data.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    # UTF-8 with a byte-order mark, so that Excel shows "Müller" and not "MÃ¼ller"
    assert as_csv.content.startswith(b"\xef\xbb\xbfsection,item,field,value\r\n")
    assert as_csv.content.count(b"\xef\xbb\xbf") == 1
    assert "Müllerstraße 1".encode() in as_csv.content
    cells = [c for row in csv.reader(io.StringIO(as_csv.text)) for c in row]
    assert "'=HYPERLINK(\"x\")" in cells
    assert "'+cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert client.get(f"/my-data/{token}/data.xml").status_code == 404


def test_a_link_is_refused_when_expired_tampered_or_made_for_another_use(
        client: TestClient, published: Instance) -> None:
    ada = new_subject(published, "ada@example.org")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW - timedelta(hours=25))
    assert client.get(f"/my-data/{token}").status_code == 410
    fresh = my_data_token(published.keyring, subject_id=ada, now=NOW)
    flipped = fresh[:-3] + ("A" if fresh[-3] != "A" else "B") + fresh[-2:]
    assert client.get(f"/my-data/{flipped}").status_code == 400
    other_use = preferences_token(published.keyring, subject_id=ada, now=NOW)
    assert client.get(f"/my-data/{other_use}").status_code == 400
    assert client.get(f"/preferences/{fresh}").status_code == 400
    for path in ("/data.json", "/erase"):
        assert client.get(f"/my-data/{token}{path}").status_code == 410
    assert client.post(f"/my-data/{flipped}/erase", data={"confirm": "yes"}).status_code == 400
    assert client.post(f"/my-data/{other_use}/correct", data={"name": "X"}).status_code == 400
    with published.db.read() as session:
        assert not session.execute(select(AuditEntry).where(
            AuditEntry.action == "rights.report")).first()


def test_the_link_expires_after_a_day(client: TestClient, published: Instance) -> None:
    ada = new_subject(published, "ada@example.org")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    app = client.app
    app.dependency_overrides[get_now] = lambda: NOW + timedelta(hours=23)  # type: ignore[attr-defined]
    assert client.get(f"/my-data/{token}").status_code == 200
    app.dependency_overrides[get_now] = lambda: NOW + timedelta(hours=24)  # type: ignore[attr-defined]
    assert client.get(f"/my-data/{token}").status_code == 410


def test_corrections_name_and_language_at_once_the_rest_goes_to_staff(
        client: TestClient, published: Instance, rights: RightsService) -> None:
    ada = new_subject(published, "ada@example.org", name="Ada Byron")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    saved = client.post(f"/my-data/{token}/correct", data={
        "name": "Ada Lovelace", "language": "de", "other": "My phone is +49 30 1234567"})
    assert saved.status_code == 200, saved.text
    with published.db.read() as session:
        person = published.subjects.get(session, ada, actor="test", now=NOW, audited=False)
        rectified = session.execute(select(AuditEntry).where(
            AuditEntry.action == "subject.rectify", AuditEntry.target == ada)).scalars().all()
    assert (person.name, person.attributes) == ("Ada Lovelace", {"language": "de"})
    assert [e.actor for e in rectified] == ["subject:my-data"]
    kinds = {(r.kind, r.status) for r in rights.requests_of(published.db, ada)}
    assert ("rectification", "open") in kinds
    with published.db.read() as session:
        [note] = published.subjects.notes(session, ada)
    assert "+49 30 1234567" in note.body
    bad = client.post(f"/my-data/{token}/correct", data={"name": "x" * 501})
    assert bad.status_code == 422


def test_a_refused_correction_is_said_in_the_page_language_at_its_field(
        client: TestClient, published: Instance) -> None:
    """WCAG 3.3.1: the field's visible label and a German sentence, tied to the input."""
    ada = new_subject(published, "ada@example.org", name="Ada Byron")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    bad = client.post(f"/my-data/{token}/correct?lang=de",
                      data={"name": "x" * 501, "other": "Tel.\x1b[2J"})
    assert bad.status_code == 422
    text = unescape(re.sub(r"<[^>]+>", "", bad.text))
    assert "Name: Bitte geben Sie höchstens 500 Zeichen ein." in text
    assert "write at most" not in text
    described = re.search(r'<input id="name"[^>]*aria-invalid="true" '
                          r'aria-describedby="([^"]+)"', bad.text)
    assert described is not None
    assert f'<li id="{described.group(1)}">' in bad.text
    assert "<strong>name</strong>" not in bad.text


def test_viewing_and_downloading_are_self_service_requests_once_per_link(
        client: TestClient, published: Instance, rights: RightsService) -> None:
    ada = new_subject(published, "ada@example.org")
    token = my_data_token(published.keyring, subject_id=ada, now=NOW)
    for _ in range(2):
        client.get(f"/my-data/{token}")
        client.get(f"/my-data/{token}/data.json")
    found = rights.requests_of(published.db, ada)
    assert sorted((r.kind, r.channel, r.status, r.identity_check) for r in found) == [
        ("access", "self-service", "done", "email-link"),
        ("portability", "self-service", "done", "email-link")]


def test_the_preference_centre_links_here(client: TestClient, published: Instance) -> None:
    ada = new_subject(published, "ada@example.org")
    token = preferences_token(published.keyring, subject_id=ada, now=NOW)
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200
    assert 'href="/my-data"' in page.text
    assert "Soon you can" not in page.text
