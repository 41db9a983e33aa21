"""Posture check: no copy handed to staff is kept past its expiry."""

from __future__ import annotations

from sqlalchemy import func, select

from ehrlich.i18n import N_, NP_
from ehrlich.posture.schemas import Finding, PostureContext, Status, check
from ehrlich.sharing.models import Copy


@check("copies.overdue", N_("Exported copies are destroyed by their expiry"))
def overdue_copies(ctx: PostureContext) -> Finding:
    with ctx.instance.db.read() as session:
        overdue, open_ = (int(n) for n in session.execute(select(
            func.count().filter(Copy.expires_at <= ctx.now), func.count())
            .select_from(Copy).where(Copy.destroyed_at.is_(None))).one())
    if overdue:
        return Finding(Status.WARN, NP_("{count} copy is past its expiry and not "
                                        "confirmed destroyed",
                                        "{count} copies are past their expiry and not "
                                        "confirmed destroyed"),
                       N_("have each holder destroy the file and confirm it under Copies "
                          "(/admin/copies) or with `ehrlich copies destroy ID`"),
                       {"count": overdue})
    return Finding(Status.PASS, NP_("{count} copy open, none overdue",
                                     "{count} copies open, none overdue"), params={"count": open_})
