"""Posture check of mail (listed in `ehrlich.posture.service.CHECKS`)."""

from __future__ import annotations

from ehrlich.mail.status import mail_status
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("mail.smtp", "Mail is sent")
def smtp(ctx: PostureContext) -> Finding:
    status = mail_status(ctx.instance.settings)
    if status.on:
        return Finding(Status.PASS, status.detail)
    return Finding(Status.WARN, status.detail, status.fix)
