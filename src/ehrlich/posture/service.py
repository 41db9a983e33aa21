"""The posture report (`ehrlich doctor`, console dashboard): every check, in order.

A domain adds a check by writing one `@check(...)` function and listing it here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ehrlich.auth import posture as auth_posture
from ehrlich.backup import posture as backup_posture
from ehrlich.consent import posture as consent_posture
from ehrlich.errors import EhrlichError
from ehrlich.mail import posture as mail_posture
from ehrlich.notices import posture as notice_posture
from ehrlich.posture import checks
from ehrlich.posture.i18n import translate
from ehrlich.posture.schemas import Check, CheckResult, PostureContext, Report, Status

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

CHECKS: tuple[Check, ...] = (
    checks.key_file,
    auth_posture.second_factor,
    auth_posture.initial_passwords,
    checks.default_secrets,
    checks.https,
    checks.trusted_proxies,
    checks.audit_chain,
    notice_posture.published_notice,
    backup_posture.recent_verified_backup,
    backup_posture.recovery_key_offline,
    mail_posture.smtp,
    consent_posture.unsubscribe_mailbox,
)


def run_report(instance: Instance, *, now: datetime,
               selected: tuple[Check, ...] = CHECKS, language: str = "en") -> Report:
    """Run each check; one that crashes is reported as failed, the rest still run.
    The texts are in `language` where a translation exists, else in English."""
    ctx = PostureContext(instance, now)
    results = []
    for c in selected:
        title = translate(c.title, language=language)
        try:
            finding = c.run(ctx)
        except EhrlichError as exc:
            results.append(CheckResult(c.id, title, Status.FAIL, exc.message, translate(
                "fix the error above and run the report again", language=language)))
            continue
        results.append(CheckResult(
            c.id, title, finding.status,
            translate(finding.detail_template, finding.params, language=language),
            translate(finding.fix_template, finding.params, language=language)))
    return Report(results)
