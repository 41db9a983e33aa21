"""The campaign reports page's charts, drawn by the console's one chart helper
(`ehrlich.admin.charts.line_chart`): one point per campaign, oldest first, so a trend
across campaigns shows (a list growing stale bounces more; a tired audience complains
and leaves). The page puts the same numbers beside them as a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from gettext import NullTranslations as Translations

from markupsafe import Markup

from ehrlich.admin.charts import Series, line_chart
from ehrlich.campaigns.schemas import CampaignReport, CampaignView

LABEL_CHARACTERS = 18


@dataclass(frozen=True)
class ReportChart:
    title: str
    svg: Markup
    legend: list[tuple[str, int]]
    """(series label, total over the campaigns shown)."""


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else name[:LABEL_CHARACTERS - 1] + "…"


def _chart(chart_id: str, title: str, rows: Sequence[tuple[CampaignView, CampaignReport]],
           series: Sequence[tuple[str, str]], tr: Translations) -> ReportChart:
    values = {key: [getattr(report, key) for _, report in rows] for key, _ in series}
    legend = [(label, sum(values[key])) for key, label in series]
    description = tr.gettext(
        "Line chart over %(count)s campaigns, oldest first, from %(first)s to %(last)s. "
        "Totals: %(totals)s.") % {
        "count": len(rows), "first": rows[0][0].name, "last": rows[-1][0].name,
        "totals": ", ".join(f"{label}: {total:,}" for label, total in legend)}
    svg = line_chart(chart_id, title, description, [_label(view.name) for view, _ in rows],
                     [Series(label, values[key]) for key, label in series])
    return ReportChart(title, svg, legend)


def report_charts(rows: Sequence[tuple[CampaignView, CampaignReport]],
                  tr: Translations) -> list[ReportChart]:
    """Two charts: what went out and arrived; what came back. Needs two campaigns or more
    (a line needs two points; the table shows a single one)."""
    _ = tr.gettext
    return [
        _chart("delivery-chart", _("Sent, delivered and bounced per campaign"), rows,
               [("sent", _("Sent")), ("delivered", _("Delivered")), ("bounced", _("Bounced"))],
               tr),
        _chart("response-chart", _("Deferred, complaints and unsubscribes per campaign"), rows,
               [("deferred", _("Deferred")), ("complained", _("Complaints")),
                ("unsubscribed", _("Unsubscribed"))], tr),
    ]
