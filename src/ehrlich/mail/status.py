"""Whether mail goes out, said the same way by `doctor`, the console and `serve`.

Until `smtp_host` is set the instance uses the Null sender: every mail, the
double opt-in confirmation included, is dropped. That must never be silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.i18n import N_
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.settings import Settings

MAIL_OFF = N_("no SMTP server is configured, so nothing is sent, not even the confirmation "
              "mail a signup needs")
TURN_ON = N_("set EHRLICH_SMTP_HOST and EHRLICH_SMTP_FROM (smtp_host and smtp_from in "
             "ehrlich.toml; see docs/mail.md), restart, then send a test mail from the "
             "console's Mail page (/admin/mail)")


@dataclass(frozen=True)
class MailStatus:
    """`detail` says where mail goes, or why none goes, after the caller's own "Mail: on" or
    "Mail is off" label (so it does not say on or off itself); `fix` how to turn it on."""

    on: bool
    detail: str
    fix: str = ""
    server: str = ""
    """Where mail goes (host:port, with TLS mode) and from which address, when it is on:
    the console words these itself in the reader's language."""
    tls: str = ""
    sender: str = ""


def mail_status(settings: Settings) -> MailStatus:
    """On or off, and how to turn it on; raises `ConfigurationError` for a half setup."""
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return MailStatus(False, MAIL_OFF, TURN_ON)
    server = f"{config.host}:{config.port}"
    return MailStatus(True, f"mail goes to {server} (TLS: {config.tls}) from {settings.smtp_from}",
                      server=server, tls=str(config.tls), sender=str(settings.smtp_from))
