"""The overview by role: consent figures from the counts kept at write time, the 90-day chart as
accessible SVG with its numbers as a table, and only the widgets a role may see."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ehrlich.admin.charts import Series, line_chart, nice_ceiling
from ehrlich.consent.statistics import ActiveCount, active_by_purpose, daily_activity
from ehrlich.instance.service import Instance
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    open_session,
    settings,
)
from tests.conftest import NOW
from tests.factories import Staff, new_subject, record

Maker = Callable[..., Staff]
TODAY = NOW.date()


def _events(instance: Instance) -> None:
    old = new_subject(instance, "old@example.org")
    record(instance, old, "requested", now=NOW - timedelta(days=90))  # a day before the window
    first = new_subject(instance, "first@example.org")
    record(instance, first, "requested", now=NOW - timedelta(days=89, hours=11, minutes=59))
    late = new_subject(instance, "late@example.org")
    record(instance, late, "requested", now=NOW - timedelta(hours=12, minutes=30))  # 23:30 UTC
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    record(instance, ada, "confirmed")
    record(instance, ada, "requested", purpose="offers")
    bob = new_subject(instance, "bob@example.org")
    record(instance, bob, "granted")
    record(instance, bob, "withdrawn")
    cy = new_subject(instance, "cy@example.org")
    record(instance, cy, "objected")
    dee = new_subject(instance, "dee@example.org")
    record(instance, dee, "granted", channel="sms")


def test_daily_activity_counts_every_day_of_the_window_in_utc(instance: Instance) -> None:
    _events(instance)
    with instance.db.read() as session:
        activity = daily_activity(session, days=90, today=TODAY)
    assert len(activity.days) == 90
    assert activity.days[0] == TODAY - timedelta(days=89)
    assert activity.days[-1] == TODAY
    signups = activity.series["signups"]
    assert signups[0] == 1  # the first day of the window, just after midnight
    assert signups[-2] == 1  # 23:30 UTC yesterday stays yesterday, whatever the server's zone
    assert signups[-1] == 2  # two purposes asked for: two requests
    assert activity.series["confirmations"][-1] == 3  # one confirmed, two granted
    assert activity.series["withdrawals"][-1] == 2  # one withdrawn, one objected
    assert activity.total("signups") == 4  # the request 90 days ago is outside
    assert sum(activity.series["confirmations"][:-1]) == 0


def test_active_consents_per_purpose_and_channel(instance: Instance) -> None:
    _events(instance)
    with instance.db.read() as session:
        found = active_by_purpose(session)
    assert found == [ActiveCount("newsletter", "email", 1), ActiveCount("newsletter", "sms", 1)]


def test_chart_is_an_image_with_a_name_a_summary_and_no_inline_style() -> None:
    svg = str(line_chart("c1", "Signups <per day>", "Totals: 3 & 4",
                         ["01.01.", "02.01.", "03.01."],
                         [Series("a", [0, 3, 1]), Series("b", [4, 0, 0])]))
    assert svg.startswith('<svg class="chart" id="c1" role="img" '
                          'aria-labelledby="c1-title c1-desc"')
    assert '<title id="c1-title">Signups &lt;per day&gt;</title>' in svg
    assert '<desc id="c1-desc">Totals: 3 &amp; 4</desc>' in svg
    assert "style=" not in svg
    assert svg.count("<polyline") == 2
    assert 'stroke-dasharray="6 4"' in svg  # the second series differs by more than colour
    assert ">4<" in svg  # the axis tops out at a round number above the largest value
    assert ">2<" in svg  # and its middle line is a whole number
    with pytest.raises(ValueError, match="1 to 3 series"):
        line_chart("c2", "t", "d", [], [])


@pytest.mark.parametrize(("labels", "drawn"), [
    (["Oct", "Nov"], ["Oct", "Nov"]), (["a", "b", "c"], ["a", "c", "b"]),
    (["1", "2", "3", "4", "5"], ["1", "5", "3"])])
def test_each_x_label_is_drawn_once(labels: list[str], drawn: list[str]) -> None:
    """First, last and middle; with two values the middle is the first, drawn once."""
    svg = str(line_chart("c3", "t", "d", labels, [Series("a", [1] * len(labels))]))
    assert re.findall(r'y="212" text-anchor="\w+">([^<]+)</text>', svg) == drawn


@pytest.mark.parametrize(("value", "ceiling"), [(0, 2), (1, 2), (3, 4), (7, 8), (9, 10),
                                                (12, 20), (200, 200), (201, 400),
                                                (999_999, 1_000_000)])
def test_nice_ceiling(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


WIDGETS = {"chart": 'id="activity-chart"', "table": 'id="activity-table"',
           "consents": 'id="consents"', "counts": 'id="counts-title"',
           "posture": 'id="posture-title"', "backup": 'id="backup-widget"',
           "mail": 'id="mail-widget"', "audit": 'id="audit-widget"'}
SEEN_BY = {
    "marketer": {"chart", "table", "consents", "counts"},
    "support": {"chart", "table", "consents", "counts"},
    "auditor": {"posture", "backup", "mail", "audit"},
    "admin": set(WIDGETS),
    "owner": set(WIDGETS),
}


@pytest.mark.role_matrix(lambda role, **_: SEEN_BY[role] == set(WIDGETS))
@pytest.mark.parametrize("role", sorted(SEEN_BY))
def test_each_role_sees_its_widgets(
        role: str, instance: Instance, console: TestClient,  # noqa: F811
        make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    _events(instance)
    open_session(console, make_staff(role), clock.now)
    page = console.get("/admin").text
    shown = {name for name, marker in WIDGETS.items() if marker in page}
    assert shown == SEEN_BY[role]
    if "table" in shown:
        rows = re.findall(r'<tr><th scope="row" class="mono">(\d{4}-\d\d-\d\d)</th>'
                          r'<td class="num">(\d+)</td><td class="num">(\d+)</td>'
                          r'<td class="num">(\d+)</td></tr>', page)
        assert len(rows) == 90
        assert rows[0] == (TODAY.isoformat(), "2", "3", "2")  # newest first
        assert rows[-1][0] == (TODAY - timedelta(days=89)).isoformat()
        assert 'role="img"' in page
        assert ">Nov 29</text>" in page  # the day under the axis, as English writes it
        assert "style=" not in page
    if "backup" in shown:
        assert "No backup has been verified on this instance yet." in page


def test_overview_names_the_last_verification(
        instance: Instance, console: TestClient,  # noqa: F811
        make_staff: Maker, clock: Clock) -> None:  # noqa: F811
    from ehrlich.backup.models import BackupVerification

    with instance.db.write() as session:
        session.add(BackupVerification(backup_id="b-older", at=NOW - timedelta(days=2), ok=True))
        session.add(BackupVerification(backup_id="b-newest", at=NOW - timedelta(hours=1),
                                       ok=False))
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin?lang=de").text
    widget = page.split('id="backup-widget"')[1].split("</section>")[0]
    assert "b-newest" in widget
    assert "fehlgeschlagen" in widget
    assert (NOW - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M") in widget


def test_german_chart_texts(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("marketer"), clock.now)
    page = console.get("/admin?lang=de").text
    assert "Anmeldungen, Bestätigungen und Widerrufe pro Tag" in page
    assert "Noch keine aktiven Einwilligungen." in page
    assert ">1. Sept.</text>" in page  # the first day, 90 days back, as German writes it


@pytest.mark.parametrize("lang", ["en", "de"])
def test_protection_report_leaves_a_passing_checks_fix_empty(
        lang: str, instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    page = console.get(f"/admin?lang={lang}").text
    assert "Protection report" in page or "Schutzbericht" in page
    assert "Project-Id-Version" not in page


def test_the_report_starts_with_what_needs_doing_and_links_the_pages_to_do_it(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    open_session(console, make_staff("owner"), clock.now)
    page = console.get("/admin?lang=de").text
    report = page.split('id="posture-title"')[1].split("</table>")[0]
    states = re.findall(r'<tr class="status-(pass|warn|fail)">', report)
    assert {"pass", "warn"} <= set(states)  # a new instance: mail off, no backup yet
    assert states == sorted(states, key=("fail", "warn", "pass").index)
    assert '<a href="/admin/mail">/admin/mail</a>' in report  # mail is off: where to test it
    assert '<a href="/admin/backups">/admin/backups</a>' in report
    fails, warns = states.count("fail"), states.count("warn")
    summary = re.search(r'<p class="flash (\w+)" role="status" id="report-summary">'
                        r'<a href="#posture-title">(.*?)</a></p>', page)
    assert summary is not None
    assert summary.group(1) == ("error" if fails else "warn")
    assert f"{warns} Warnung" in summary.group(2)
    counts = re.search(r'<p id="posture-counts">(.*?)</p>', page)
    assert counts is not None
    passes = states.count("pass")
    words = (("Problem zu beheben", "Probleme zu beheben"), ("Warnung", "Warnungen"),
             ("Prüfung bestanden", "Prüfungen bestanden"))
    assert counts.group(1) == " · ".join(
        f"{n} {one if n == 1 else many}"
        for n, (one, many) in zip((fails, warns, passes), words, strict=True))
    assert page.index('id="report-summary"') < page.index('id="posture-title"')


def test_console_links_escape_the_text_and_link_only_console_paths() -> None:
    from ehrlich.admin.templating import console_links

    linked = str(console_links('<b>"x"</b> at /admin/backups, not /etc/passwd or http://a/admin'))
    assert linked.startswith("&lt;b&gt;&#34;x&#34;&lt;/b&gt; at "
                             '<a href="/admin/backups">/admin/backups</a>, not /etc/passwd')
    assert linked.endswith("or http://a/admin")  # not a console path of this console
    assert "<b>" not in linked
