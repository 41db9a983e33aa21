"""The campaign pages: list, editor with errors beside their fields, preview as a sample
or as one contact (audited), a test send to oneself, and the buttons by permission."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from ehrlich.admin.deps import guide_of
from ehrlich.campaigns.service import CampaignsService
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    Staff,
    clock,
    console,
    form_value,
    instance,
    mail,
    open_session,
    settings,
)
from tests.campaigns.people import people
from tests.conftest import NOW

Maker = Callable[..., Staff]
PATH = "/admin/campaigns"


def _staff(instance: Instance, maker: Maker, role: str) -> Staff:  # noqa: F811
    staff = maker(role)
    with instance.db.write() as session:
        instance.staff.users.acknowledge_guide(session, staff.id, guide_of(instance).hash,
                                               now=NOW)
    return staff


def _csrf(client: TestClient, path: str) -> str:
    return form_value(client.get(path).text, "csrf")


def _fields(**changes: str) -> dict[str, str]:
    fields = {"name": "Winter", "purpose": "newsletter", "language": "en",
              "subject": "Winter for {{ name }}", "text_body": "Hi {{ name }}\n",
              "html_body": "<p>Hi {{ name }}</p>"}
    return fields | changes


def test_marketer_writes_previews_tests_and_sends(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock, mail: MemoryMailSender) -> None:  # noqa: F811
    staff = _staff(instance, make_staff, "marketer")
    open_session(console, staff, clock.now)
    assert console.get(PATH).status_code == 200
    bad = console.post(PATH, data={"csrf": _csrf(console, f"{PATH}/new"),
                                   **_fields(text_body="Hi {{ email }}")})
    assert bad.status_code == 422
    assert 'id="text_body-error"' in bad.text
    assert "email" in bad.text
    made = console.post(PATH, data={"csrf": _csrf(console, f"{PATH}/new"), **_fields()},
                        follow_redirects=False)
    assert made.status_code == 303
    page_path = made.headers["location"]
    shown = console.get(page_path)
    assert "Winter for Ada Lovelace" in shown.text  # the sample person
    [subject_id] = people(instance, 1)
    as_person = console.get(page_path, params={"subject": subject_id})
    assert "Winter for Person 0" in as_person.text
    by_address = console.get(page_path, params={"subject": "Person0@Example0.org"})
    assert "Winter for Person 0" in by_address.text  # found by its blind index
    unknown = console.get(page_path, params={"subject": "nobody@example.org"})
    assert unknown.status_code == 422
    assert 'id="subject_id-error">no contact has this email address<' in unknown.text
    malformed = console.get(page_path, params={"subject": "a@@b"})
    assert malformed.status_code == 422
    assert 'id="subject_id-error"' in malformed.text
    tested = console.post(f"{page_path}/test", data={"csrf": _csrf(console, page_path)})
    assert tested.status_code == 200
    assert [m.to for m in mail.sent] == [staff.email]
    assert mail.sent[0].subject.startswith("[Test] ")
    sent = console.post(f"{page_path}/action", data={
        "csrf": _csrf(console, page_path), "action": "send"}, follow_redirects=False)
    assert sent.status_code == 303
    campaign_id = page_path.rsplit("/", 1)[1]
    assert instance.service(CampaignsService).get(instance.db, campaign_id).status == "sending"
    again = console.post(f"{page_path}/action", data={
        "csrf": _csrf(console, page_path), "action": "resume"})
    assert again.status_code == 409  # not paused: nothing done


def test_schedule_needs_a_time_named_beside_its_field(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    made = console.post(PATH, data={"csrf": _csrf(console, f"{PATH}/new"), **_fields()},
                        follow_redirects=False)
    page_path = made.headers["location"]
    refused = console.post(f"{page_path}/action", data={
        "csrf": _csrf(console, page_path), "action": "schedule", "at": "soon"})
    assert refused.status_code == 422
    assert 'id="scheduled_at-error"' in refused.text


def test_support_staff_may_not_open_campaigns(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "support"), clock.now)
    assert console.get(PATH).status_code == 403


def test_the_list_speaks_german(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    page = console.get(PATH, headers={"Accept-Language": "de"})
    assert "Noch keine Kampagnen." in page.text
    assert "Neue Kampagne" in page.text


def test_the_language_is_chosen_from_the_notices_languages(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    page = console.get(f"{PATH}/new", headers={"Accept-Language": "de"}).text
    select = page[page.index('<select id="language"'):]
    select = select[:select.index("</select>")]
    assert '<option value="en" selected>Englisch (en)</option>' in select
    assert '<option value="de">Deutsch (de)</option>' in select
    assert select.count("<option") == 2


def test_a_draft_says_how_many_people_it_would_reach_now(
        console: TestClient, instance: Instance, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    people(instance, 5, consented={0, 1, 2})
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    created = console.post(PATH, data={"csrf": _csrf(console, f"{PATH}/new"), **_fields()})
    assert created.status_code in (200, 201), created.text
    page = created.text
    assert "Sent now, it would go to 3 people." in page
    assert "<dt>Audience</dt>" not in page  # no report of a send that never was
