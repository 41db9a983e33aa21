"""The console's navigation by group: what each role sees, in which order, and which
entry a page below it (a person, a campaign) marks as current."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ehrlich.admin.nav import (
    ADMINISTRATION,
    MARKETING,
    PEOPLE,
    PRIVACY,
    NavEntry,
    Navigation,
)
from ehrlich.auth.roles import Permission, Role
from ehrlich.i18n import N_
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    Staff,
    clock,
    console,
    open_session,
    settings,
)


def test_groups_follow_the_console_order_and_leave_out_what_a_role_cannot_open() -> None:
    nav = Navigation()
    for entry in (NavEntry("/admin/mail", "Mail", Permission.POSTURE_READ, ADMINISTRATION),
                  NavEntry("/admin", "Overview"),
                  NavEntry("/admin/garden", "Garden", group=N_("Garden")),
                  NavEntry("/admin/campaigns", "Campaigns", Permission.CAMPAIGNS_EDIT,
                           MARKETING),
                  NavEntry("/admin/contacts", "Contacts", Permission.SUBJECTS_LIST, PEOPLE),
                  NavEntry("/admin/audit", "Audit log", Permission.AUDIT_READ, PRIVACY)):
        nav.add(entry)
    owner = [(g.label, [e.path for e in g.entries]) for g in nav.groups_for_role(Role.OWNER)]
    assert owner == [("", ["/admin"]), (PEOPLE, ["/admin/contacts"]),
                     (MARKETING, ["/admin/campaigns"]), (PRIVACY, ["/admin/audit"]),
                     (ADMINISTRATION, ["/admin/mail"]), ("Garden", ["/admin/garden"])]
    marketer = [g.label for g in nav.groups_for_role(Role.MARKETER)]
    assert marketer == ["", MARKETING, "Garden"]  # no empty groups


@pytest.mark.parametrize(("path", "current"), [
    ("/admin", True), ("/admin/contacts", False), ("/admin/contactsx", False)])
def test_the_overview_is_current_only_on_itself(path: str, current: bool) -> None:
    assert NavEntry("/admin", "Overview").is_current(path) is current


def test_a_page_below_an_entry_marks_it_current() -> None:
    contacts = NavEntry("/admin/contacts", "Contacts")
    assert contacts.is_current("/admin/contacts/0b6c3a1e")
    assert not contacts.is_current("/admin/contacts-export")


def test_the_console_shows_a_marketer_the_groups_of_their_work_in_their_language(
        console: TestClient, make_staff: Callable[..., Staff],  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("marketer"), clock.now)
    page = console.get("/admin/campaigns", headers={"Accept-Language": "de"}).text
    nav = page[page.index('<nav class="console-nav"'):page.index("</nav>")]
    assert '<span class="nav-group-label" id="nav-group-2">Personen</span>' in nav
    assert ">Marketing</span>" in nav
    assert "Verwaltung" not in nav  # a marketer has no page there
    assert '<a href="/admin/campaigns" aria-current="page">' in nav
    assert nav.count("aria-current") == 1
    assert '<span class="who">marketer-' in page
    assert "@example.org (Marketing)</span>" in page  # the role by its German name
