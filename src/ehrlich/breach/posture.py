"""Posture check: every open breach has the supervisory authority question settled within
72 hours of it being noticed (GDPR Art. 33(1))."""

from __future__ import annotations

from ehrlich.breach.service import open_breaches
from ehrlich.i18n import N_, NP_
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("breach.clock", N_("Breaches are reported to the authority within 72 hours"))
def breach_clock(ctx: PostureContext) -> Finding:
    with ctx.instance.db.read() as session:
        found = [b for b in open_breaches(session) if not b.authority_settled]
    late = [b for b in found if b.overdue(ctx.now)]
    if late:
        return Finding(Status.FAIL, NP_("{count} open breach noticed more than 72 hours "
                                        "ago without the supervisory authority notified",
                                        "{count} open breaches noticed more than 72 hours "
                                        "ago without the supervisory authority notified"),
                       N_("notify the authority now, record it with `ehrlich breach update "
                          "ID --authority-notified-at ...` (or why it is not notified), and "
                          "give the reasons for the delay (Art. 33(1))"),
                       {"count": len(late)})
    if found:
        hours = min(b.hours_left(ctx.now) for b in found)
        return Finding(Status.WARN, NP_("{count} open breach; the authority must be told "
                                        "within {hours} hours",
                                        "{count} open breaches; the authority must be told "
                                        "within {hours} hours"),
                       N_("decide and record it under Breaches (/admin/breaches) or with "
                          "`ehrlich breach update`"), {"count": len(found), "hours": hours})
    return Finding(Status.PASS, N_("no open breach is waiting for the authority"))
