"""The console's Retention page: the dry run by purpose and reason for roles that may see
the posture, the contacts' references only for roles that may list contacts, and the run
only for roles that may erase."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from ehrlich.admin.deps import guide_of
from ehrlich.instance.service import Instance
from ehrlich.subjects.service import ERASED, subject_state
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    instance,
    mail,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.factories import Staff, new_subject, publish_notice, record

Maker = Callable[..., Staff]


def _signed_in(console: TestClient, instance: Instance, maker: Maker,  # noqa: F811
               role: str, clock: Clock) -> None:  # noqa: F811
    staff = maker(role)
    with instance.db.write() as session:
        instance.staff.users.acknowledge_guide(session, staff.id, guide_of(instance).hash,
                                               now=NOW)
    open_session(console, staff, clock.now)


def test_the_page_shows_the_dry_run_and_runs_it(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance,  # noqa: F811
        ) -> None:
    publish_notice(instance)
    gone = new_subject(instance, "never-confirmed@example.org")
    record(instance, gone, "requested", now=NOW - timedelta(days=40))
    kept = new_subject(instance, "subscribed@example.org")
    record(instance, kept, "granted")

    _signed_in(console, instance, make_staff, "auditor", clock)
    page = console.get("/admin/retention")
    assert page.status_code == 200
    assert "1 person would be erased" in page.text
    assert "consent request never confirmed" in page.text
    assert "Run retention now" not in page.text  # an auditor may not erase
    # the declared periods as the notice words them, in the page's language
    assert "your consent (Art. 6(1)(a) GDPR)" in page.text
    german = console.get("/admin/retention?lang=de").text
    assert "2 Jahre nach Ihrem Widerruf" in german
    assert "years" not in german
    assert gone not in console.get("/admin/retention?subjects=1").text  # nor list contacts
    console.cookies.clear()

    _signed_in(console, instance, make_staff, "marketer", clock)
    assert console.get("/admin/retention").status_code == 403
    console.cookies.clear()

    _signed_in(console, instance, make_staff, "owner", clock)
    listed = console.get("/admin/retention?subjects=1")
    assert gone in listed.text
    assert kept not in listed.text
    assert "never-confirmed@" not in listed.text  # references only
    ran = console.post("/admin/retention/run", data={"csrf": form_value(listed.text, "csrf")},
                       follow_redirects=False)
    assert ran.status_code == 303
    assert "1 person erased" in console.get(ran.headers["location"]).text
    with instance.db.read() as session:
        assert subject_state(session, gone) == ERASED
        assert subject_state(session, kept) != ERASED
    assert "Nobody: every contact is still kept by a purpose." in console.get(
        "/admin/retention").text
