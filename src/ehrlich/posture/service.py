"""The posture report (`ehrlich doctor`, console dashboard): every check, in order.

A domain adds a check by writing one `@check(...)` function and registering it in its
`install` (`registry.add_check`); the report runs the instance's checks in domain order.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ehrlich.errors import EhrlichError
from ehrlich.i18n import N_
from ehrlich.posture.i18n import translate
from ehrlich.posture.schemas import Check, CheckResult, PostureContext, Report, Status

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance


def run_report(instance: Instance, *, now: datetime,
               selected: tuple[Check, ...] | None = None, language: str = "en") -> Report:
    """Run each check; one that crashes is reported as failed, the rest still run.
    The texts are in `language` where a translation exists, else in English."""
    ctx = PostureContext(instance, now)
    results = []
    for c in instance.contributions.checks if selected is None else selected:
        title = translate(c.title, language=language)
        try:
            finding = c.run(ctx)
        except EhrlichError as exc:
            results.append(CheckResult(c.id, title, Status.FAIL, exc.message, translate(
                N_("fix the error above and run the report again"), language=language)))
            continue
        results.append(CheckResult(
            c.id, title, finding.status,
            translate(finding.detail_template, finding.params, language=language),
            translate(finding.fix_template, finding.params, language=language)))
    return Report(results)
