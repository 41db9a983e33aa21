"""Posture check of mail, registered by `ehrlich.mailroom.install`."""

from __future__ import annotations

from ehrlich.i18n import N_
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.mail.status import TURN_ON
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("mail.smtp", N_("Mail is sent"))
def smtp(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return Finding(
            Status.WARN,
            N_("mail is off: no SMTP server is configured, so nothing is sent, not even the "
               "confirmation mail a signup needs"), TURN_ON)
    return Finding(Status.PASS, N_("mail goes to {server} (TLS: {tls}) from {sender}"),
                   params={"server": f"{config.host}:{config.port}", "tls": config.tls,
                           "sender": settings.smtp_from})
