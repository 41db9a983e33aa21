"""The notice console: versions and diffs, the draft editor with findings beside their
lines, preview, publish with the renewal impact first, the signup snippet, branding."""

# ruff: noqa: F811 - the staff fixtures are imported by name and used as parameters

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.models import ConsentState
from ehrlich.instance.service import Instance
from ehrlich.notices.example import example_notice_text
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    Staff,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import Cli
from tests.factories import new_subject, record
from tests.notices.conftest import line_of, own_business, variant

Maker = Callable[..., Staff]
WIDER = ("duration: 2 years", "duration: 3 years")
PAGES = ["/admin/notice", "/admin/notice/embed"]
EDIT_PAGES = ["/admin/notice/draft", "/admin/notice/draft/preview?lang=en",
              "/admin/notice/draft/publish", "/admin/notice/branding"]


def _publish(instance: Instance, text: str, clock: Clock) -> None:
    with instance.db.write() as session:
        instance.notices.publish(session, text, file="notice.yaml", publisher="test",
                                 now=clock.now)


def _signed_in(console: TestClient, staff: Staff, clock: Clock) -> None:
    """Signed in, with the data-handling guide (which quotes the notice) acknowledged."""
    open_session(console, staff, clock.now)
    _acknowledge(console)


def _acknowledge(console: TestClient) -> None:
    guide = console.get("/admin/guide").text
    done = console.post("/admin/guide", data={"guide_hash": form_value(guide, "guide_hash"),
                                              "csrf": form_value(guide, "csrf")},
                        follow_redirects=False)
    assert done.headers["location"] == "/admin"


def _save(console: TestClient, text: str) -> str:
    page = console.get("/admin/notice/draft").text
    response = console.post("/admin/notice/draft",
                            data={"source": text, "csrf": form_value(page, "csrf")})
    assert response.status_code == 200, response.text
    return response.text


def _confirm(console: TestClient) -> tuple[str, dict[str, str]]:
    page = console.get("/admin/notice/draft/publish").text
    return page, {"csrf": form_value(page, "csrf"),
                  "draft_sha256": form_value(page, "draft_sha256")}


@pytest.mark.role_matrix(lambda role, **_: role in ("owner", "admin"))  # reads and edits
@pytest.mark.parametrize("role", ["owner", "admin", "auditor", "marketer", "support"])
def test_permissions_per_role_and_action(console: TestClient, make_staff: Maker,
                                         clock: Clock, instance: Instance, role: str) -> None:
    _publish(instance, example_notice_text(), clock)
    _signed_in(console, make_staff(role), clock)
    readers, editors = ("owner", "admin", "auditor"), ("owner", "admin")
    for path in PAGES:
        got = console.get(path, follow_redirects=False)
        assert got.status_code == (200 if role in readers else 403), path
    got = console.get("/admin/notice/v/1/diff", follow_redirects=False)
    assert got.status_code == (200 if role in readers else 403)
    for path in EDIT_PAGES:
        got = console.get(path, follow_redirects=False)
        assert got.status_code == (200 if role in editors else 403), path
    wider = variant(example_notice_text(), WIDER)
    csrf = form_value(console.get("/admin/account").text, "csrf")
    saved = console.post("/admin/notice/draft", data={"source": wider, "csrf": csrf})
    assert saved.status_code == (200 if role in editors else 403)
    published = console.post("/admin/notice/draft/publish",
                             data={"csrf": csrf, "draft_sha256": "x" * 64},
                             follow_redirects=False)
    assert published.status_code == (409 if role in editors else 403), published.text[-3000:]
    branded = console.post("/admin/notice/branding", data={
        "name": "Radhaus", "contact": "", "accent": "#0b5394", "csrf": csrf})
    assert branded.status_code == (200 if role in editors else 403)
    with instance.db.read() as session:
        assert len(instance.notices.versions(session)) == 1
    nav = console.get("/admin/account").text
    assert ('href="/admin/notice"' in nav) == (role in readers)


def test_findings_are_shown_beside_their_lines(console: TestClient,
                                               make_staff: Maker, clock: Clock,
                                               instance: Instance) -> None:
    _signed_in(console, make_staff("owner"), clock)
    bad = variant(own_business(example_notice_text()), ("default: unticked", "default: ticked"))
    page = _save(console, bad)
    line = line_of(bad, "default: ticked")
    row = re.search(rf'<tr id="L{line}" class="has-finding">(.*?)</tr>', page, re.S)
    assert row, "the line with the finding is not marked"
    assert "default: ticked" in row.group(1)
    assert "error" in row.group(1)
    assert f'<a href="#L{line}">Line {line}:' in page
    assert page.count('class="has-finding"') == 1
    # The draft is stored and audited (its hash, not its text).
    with instance.db.read() as session:
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "notice.draft_save" in actions
    assert "default: ticked" in console.get("/admin/notice/draft").text
    blocked = console.get("/admin/notice/draft/publish").text
    assert "cannot be published until its errors are fixed" in blocked
    broken = _save(console, "controller: [unclosed\npurposes: []")
    assert '<tr id="L2" class="has-finding">' in broken
    assert "malformed YAML" in broken


def test_a_german_reader_sees_the_findings_in_german(console: TestClient, make_staff: Maker,
                                                    clock: Clock) -> None:
    _signed_in(console, make_staff("owner"), clock)
    bad = variant(example_notice_text(), ("default: unticked", "default: ticked"))
    _save(console, bad)
    page = console.get("/admin/notice/draft?lang=de").text
    assert ("das Einwilligungskästchen ist vorausgewählt (`default: ticked`); eine "
            "Einwilligung muss ein aktives Ja sein") in page
    assert "schreiben Sie `default: unticked` oder streichen Sie die Zeile" in page
    assert "the consent checkbox is pre-selected" not in page
    # a message with fields: the example's controller, named in the German sentence
    assert "der Verantwortliche ist noch der aus dem Beispiel (Lindenhof" in page
    assert "the consent checkbox is pre-selected" in console.get(
        "/admin/notice/draft?lang=en").text



def test_a_german_reader_sees_the_diffs_labels_in_german(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:
    _publish(instance, own_business(example_notice_text()), clock)
    _signed_in(console, make_staff("owner"), clock)
    _save(console, variant(own_business(example_notice_text()), WIDER))
    impact = console.get("/admin/notice/draft/publish?lang=de").text
    assert "<span>--- Fassung 1</span>" in impact
    assert "<span>+++ Fassung 2 (Entwurf)</span>" in impact
    assert "+++ Fassung 1" in html.unescape(console.get("/admin/notice/v/1/diff?lang=de").text)
    assert "+++ version 2 (draft)" in html.unescape(
        console.get("/admin/notice/draft/publish?lang=en").text)


def test_preview_in_both_languages_is_marked_and_publishes_nothing(
        console: TestClient, make_staff: Maker, clock: Clock,
        instance: Instance) -> None:
    _signed_in(console, make_staff("owner"), clock)
    _save(console, variant(example_notice_text(), WIDER))
    en = console.get("/admin/notice/draft/preview?lang=en")
    de = console.get("/admin/notice/draft/preview?lang=de")
    assert en.status_code == de.status_code == 200
    assert "Preview of the draft: not published" in en.text
    assert 'lang="de"' in de.text
    assert "3 Jahre" in de.text
    assert en.headers["cache-control"] == "no-store"
    assert "/notice.json" not in en.text  # the JSON is the published version's
    with instance.db.read() as session:
        assert instance.notices.count(session) == 0
    assert console.get("/notice").status_code == 404


def test_publish_shows_the_renewal_impact_first_and_marks_the_same_number(
        console: TestClient, make_staff: Maker, clock: Clock,
        instance: Instance) -> None:
    _publish(instance, example_notice_text(), clock)
    active = [new_subject(instance, f"p{i}@example.org") for i in range(3)]
    for subject in active:
        record(instance, subject, "granted")
    gone = new_subject(instance, "gone@example.org")
    record(instance, gone, "granted")
    record(instance, gone, "withdrawn")
    other = new_subject(instance, "sms@example.org")
    record(instance, other, "granted", purpose="repair_sms", channel="sms")
    _signed_in(console, make_staff("owner"), clock)
    _save(console, variant(example_notice_text(), WIDER))
    page, form = _confirm(console)
    assert "Publishing creates version 2." in page
    assert "3 people's consent will need renewal" in html.unescape(page)
    assert "longer retention: 2 years → 3 years" in page
    german = console.get("/admin/notice/draft/publish", headers={"accept-language": "de"})
    assert "längere Aufbewahrung: 2 years → 3 years" in german.text  # the notice's own words
    assert "longer retention" not in german.text
    with instance.db.read() as session:  # showing the impact wrote nothing
        assert instance.notices.count(session) == 1
        states = session.execute(select(ConsentState.state)).scalars().all()
    assert sorted(states) == ["active", "active", "active", "active", "withdrawn"]
    done = console.post("/admin/notice/draft/publish", data=form)
    assert done.status_code == 201, done.text
    assert ("Version 2 is published. 3 people's consent was marked for renewal."
            in html.unescape(done.text))
    with instance.db.read() as session:
        states = session.execute(select(ConsentState.state)).scalars().all()
        assert instance.notices.versions(session)[-1].publisher == "owner-5@example.org"
    assert sorted(states) == ["active", "renewal-needed", "renewal-needed", "renewal-needed",
                              "withdrawn"]
    _acknowledge(console)  # the guide quotes the notice: a new version asks again
    again = console.post("/admin/notice/draft/publish", data=form)
    assert "Nothing new was published: version 2 already says this." in again.text
    diff = console.get("/admin/notice/v/2/diff").text
    assert "<h1>Changes in version 2</h1>" in diff
    assert "<del>-    duration: 2 years</del>" in diff
    assert "<ins>+    duration: 3 years</ins>" in diff


def test_publishing_the_example_unchanged_shows_its_placeholders_first(
        console: TestClient, make_staff: Maker, clock: Clock) -> None:
    """A new instance's draft is the example: another business's name and a contact
    nobody reads. The publish page says so before the button; a real notice shows none."""
    _signed_in(console, make_staff("owner"), clock)
    page, _ = _confirm(console)
    warnings = page[page.index("publish-warnings"):page.index("Publish version 1")]
    assert "Look at these warnings before you publish:" in warnings
    assert "Lindenhof Fahrradmanufaktur GmbH" in html.unescape(warnings)
    assert "privacy@lindenhof-rad.example is on lindenhof-rad.example" in warnings
    assert f'href="/admin/notice/draft#L{line_of(example_notice_text(), "contact: dpo@")}"' \
        in warnings
    _save(console, own_business(example_notice_text()))
    page, _ = _confirm(console)
    assert "Publishing creates version 1." in page
    assert "publish-warnings" not in page


def test_publish_needs_a_fresh_confirmation_and_the_draft_that_was_shown(
        console: TestClient, make_staff: Maker, clock: Clock,
        instance: Instance) -> None:
    _signed_in(console, make_staff("owner"), clock)
    _save(console, example_notice_text())
    _, form = _confirm(console)
    _save(console, variant(example_notice_text(), WIDER))
    changed = console.post("/admin/notice/draft/publish", data=form)
    assert changed.status_code == 409
    assert "The draft changed since this page was shown" in changed.text
    _, form = _confirm(console)
    clock.advance(minutes=11)
    stale = console.post("/admin/notice/draft/publish", data=form, follow_redirects=False)
    assert stale.status_code == 303
    assert stale.headers["location"] == "/admin/reauth?next=/admin/notice/draft/publish"
    with instance.db.read() as session:
        assert instance.notices.count(session) == 0


def test_console_publish_equals_cli_publish(console: TestClient, make_staff: Maker,
                                           clock: Clock, instance: Instance, cli: Cli,
                                           tmp_path: Path) -> None:
    text = variant(example_notice_text(), WIDER)
    assert cli("init", "--data-dir", "cli-data", "--key-file", "cli-keys/c.key").returncode == 0
    (tmp_path / "n.yaml").write_text(text)
    assert cli("--data-dir", "cli-data", "notice", "publish", "n.yaml").returncode == 0
    by_cli = json.loads(cli("--data-dir", "cli-data", "notice", "show", "--format",
                            "json").stdout)
    _signed_in(console, make_staff("owner"), clock)
    _save(console, text)
    _, form = _confirm(console)
    assert console.post("/admin/notice/draft/publish", data=form).status_code == 201
    with instance.db.read() as session:
        published = instance.notices.current(session)
    assert (published.info.number, published.info.sha256) == (1, by_cli["sha256"])
    assert published.source == text


def test_versions_page_lists_number_hash_time_publisher(console: TestClient,
                                                       make_staff: Maker, clock: Clock,
                                                       instance: Instance) -> None:
    _publish(instance, example_notice_text(), clock)
    clock.advance(days=1)
    _publish(instance, variant(example_notice_text(), WIDER), clock)
    _signed_in(console, make_staff("auditor"), clock)
    page = console.get("/admin/notice").text
    with instance.db.read() as session:
        infos = instance.notices.versions(session)
    for info in infos:
        assert info.sha256[:12] in page
        assert f"{info.published_at:%Y-%m-%d %H:%M}" in page
        assert f'href="/admin/notice/v/{info.number}/diff"' in page
    assert page.index('href="/notice/v/2"') < page.index('href="/notice/v/1"')
    assert clock.now - timedelta(days=1) == infos[0].published_at


def test_pages_read_in_german_and_bad_drafts_change_nothing(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:
    _publish(instance, example_notice_text(), clock)
    _signed_in(console, make_staff("owner"), clock)
    german = console.get("/admin/notice?lang=de").text
    assert "<h1>Datenschutzhinweise</h1>" in german
    assert "Veröffentlichte Fassungen" in german
    assert "Speichern und prüfen" in console.get("/admin/notice/draft?lang=de").text
    assert "Einbetten (iframe)" in console.get("/admin/notice/embed?lang=de").text
    csrf = form_value(console.get("/admin/notice/draft?lang=en").text, "csrf")
    empty = console.post("/admin/notice/draft", data={"source": "  \n", "csrf": csrf})
    assert empty.status_code == 422
    assert "source: is empty" in empty.text
    huge = console.post("/admin/notice/draft", data={"source": "a" * 200_001, "csrf": csrf})
    assert huge.status_code == 422
    expired = console.post("/admin/notice/draft", data={"source": "x: 1", "csrf": "nope"})
    assert expired.status_code == 403
    with instance.db.read() as session:
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "notice.draft_save" not in actions
    assert console.get("/admin/notice/v/9/diff").status_code == 404
