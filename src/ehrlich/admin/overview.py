"""The console's overview, by role: each widget shows only to roles whose permission
covers it, and its figures come from the owning domain's service.

- contacts, active consents per purpose and channel, the 90-day activity chart:
  `AGGREGATES_READ` (marketer, support, admin, owner);
- the protection report, the last verified backup, mail: `POSTURE_READ`
  (auditor, admin, owner);
- the audit chain's length: `AUDIT_READ` (auditor, admin, owner);
- data requests due within a week: `REQUESTS_READ` (support, auditor, admin, owner);
- copies kept past their expiry: `COPIES_READ` (auditor, admin, owner);
- the cards the domains registered (`registry.add_overview_card`), each for the roles
  with its permission, first on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_skeleton
from markupsafe import Markup

from ehrlich.admin.charts import Series, line_chart
from ehrlich.auth.roles import Permission, allowed
from ehrlich.auth.sessions import ActiveSession
from ehrlich.backup.schemas import VerificationRecord
from ehrlich.consent.statistics import ActiveCount, DailyActivity, active_by_purpose, daily_activity
from ehrlich.i18n import N_, translations
from ehrlich.instance.service import Instance
from ehrlich.posture.schemas import Report
from ehrlich.posture.service import run_report
from ehrlich.rights.schemas import RequestView
from ehrlich.rights.service import RightsService
from ehrlich.sharing.copies import CopiesService

ACTIVITY_DAYS = 90
SERIES_LABELS = {"signups": N_("Signups"), "confirmations": N_("Confirmations"),
                 "withdrawals": N_("Withdrawals")}


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int] | None = None
    consents: list[ActiveCount] | None = None
    activity: DailyActivity | None = None
    chart: Markup | None = None
    report: Report | None = None
    backup: VerificationRecord | None = None
    show_backup: bool = False
    audit_entries: int | None = None
    requests_due: list[RequestView] | None = None
    overdue_copies: int | None = None
    """Copies past their expiry, not confirmed destroyed (`COPIES_READ`)."""
    cards: tuple[tuple[str, object], ...] = ()
    """The domains' cards with something to show: (template, value), in domain order."""


def _chart(activity: DailyActivity, language: str) -> Markup:
    tr = translations(language)
    label = {name: tr.gettext(SERIES_LABELS[name]) for name in activity.series}
    totals = ", ".join(f"{label[name]}: {activity.total(name):,}" for name in activity.series)
    description = tr.gettext(
        "Line chart of consent events per day over the last %(days)s days, %(first)s to "
        "%(last)s, counted per purpose. Totals: %(totals)s.") % {
        "days": len(activity.days), "first": activity.days[0], "last": activity.days[-1],
        "totals": totals}
    return line_chart(
        "activity-chart", tr.gettext("Signups, confirmations and withdrawals per day"),
        description, [format_skeleton("MMMd", d, locale=language) for d in activity.days],
        [Series(label[name], values) for name, values in activity.series.items()])


def build_overview(instance: Instance, active: ActiveSession, *, now: datetime,
                   language: str) -> Overview:
    """The widgets `active`'s role may see, filled from the services."""
    counts = consents = activity = chart = report = backup = audit_entries = None
    requests_due = None
    rights = instance.services.get(RightsService)
    with instance.db.read() as session:
        if allowed(active.role, Permission.AGGREGATES_READ):
            counts = instance.staff.overview(session, active)
            consents = active_by_purpose(session)
            activity = daily_activity(session, days=ACTIVITY_DAYS, today=now.date())
            chart = _chart(activity, language)
        if allowed(active.role, Permission.AUDIT_READ):
            audit_entries = instance.audit.head(session).seq
        if isinstance(rights, RightsService) and allowed(active.role, Permission.REQUESTS_READ):
            requests_due = rights.due_soon(session, now=now)
        overdue = (instance.service(CopiesService).overdue(session, now=now)
                   if allowed(active.role, Permission.COPIES_READ) else None)
        cards = tuple((card.template, value) for card in instance.contributions.overview_cards
                      if allowed(active.role, card.permission)
                      and (value := card.build(instance, session, now)) is not None)
    show_backup = allowed(active.role, Permission.POSTURE_READ)
    if show_backup:
        report = run_report(instance, now=now, language=language)
        backup = instance.backup.last_verification()
    return Overview(counts=counts, consents=consents, activity=activity, chart=chart,
                    report=report, backup=backup, show_backup=show_backup,
                    audit_entries=audit_entries, requests_due=requests_due,
                    overdue_copies=overdue, cards=cards)
