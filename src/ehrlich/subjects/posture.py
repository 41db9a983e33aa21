"""Posture check: the erasure ledger's chain verifies, and lives where every host reaches it."""

from __future__ import annotations

from ehrlich.errors import EhrlichError
from ehrlich.i18n import N_, NP_
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("subjects.erasure_ledger", N_("Erasure ledger verifies"))
def erasure_ledger(ctx: PostureContext) -> Finding:
    ledger, settings = ctx.instance.ledger, ctx.instance.settings
    try:
        count = sum(1 for _ in ledger.entries())
    except EhrlichError as exc:
        return Finding(Status.FAIL, N_("the erasure ledger {where} does not verify: {reason}"),
                       N_("a restore would be refused: put back the ledger database from "
                          "its own backup or replica, and investigate who could write to it"),
                       {"where": ledger.location, "reason": exc.message})
    params = {"count": count, "where": ledger.location}
    if not settings.is_sqlite and settings.effective_ledger_url.startswith("sqlite"):
        return Finding(Status.WARN, NP_("{count} erasure verified, but the ledger is a file "
                                        "on this host ({where}) while the data is on "
                                        "PostgreSQL: other hosts keep ledgers of their own",
                                        "{count} erasures verified, but the ledger is a file "
                                        "on this host ({where}) while the data is on "
                                        "PostgreSQL: other hosts keep ledgers of their own"),
                       N_("set ledger_url to a PostgreSQL database apart from the data, the "
                          "same on every host (docs/deploy.md)"), params)
    return Finding(Status.PASS, NP_("{count} erasure verified in {where}",
                                     "{count} erasures verified in {where}"), params=params)
