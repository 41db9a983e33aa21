"""Whether mail goes out, said the same way by `doctor`, the console and `serve`; and
whether it is signed (DKIM), with the record to publish.

Until `smtp_host` is set the instance uses the Null sender: every mail, the
double opt-in confirmation included, is dropped. That must never be silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from ehrlich.errors import ConfigurationError
from ehrlich.i18n import N_
from ehrlich.mail.dkim import DkimSigner
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


DKIM_OFF = N_("mail is not signed: receivers trust unsigned mail less and may file it as "
              "spam")
DKIM_TURN_ON = N_("make a key (e.g. `openssl genpkey -algorithm RSA -pkeyopt "
                  "rsa_keygen_bits:2048 -out dkim.pem`), set EHRLICH_DKIM_KEY_FILE, "
                  "EHRLICH_DKIM_SELECTOR and EHRLICH_DKIM_DOMAIN, publish the record this "
                  "page then shows, and restart (docs/mail.md)")


@dataclass(frozen=True)
class DkimStatus:
    """Whether mail is signed and what the domain's owner must publish for it."""

    on: bool
    name: str = ""
    """Where the record goes: `<selector>._domainkey.<domain>`."""
    record: str = ""
    """The TXT record's value, with the public key."""
    domain: str = ""
    aligned: bool = True
    """Whether the From address lies in (or above) the signing domain (DMARC)."""
    problem: str = ""
    """Why signing cannot work as configured (a half setup, an unreadable key)."""


def dkim_status(settings: Settings) -> DkimStatus:
    """Signing on or off, the DNS record to publish, and whether From aligns with it;
    a broken setup is a `problem`, never an exception (the page must still show)."""
    try:
        signer = DkimSigner.from_settings(settings)
        if signer is None:
            return DkimStatus(False)
        record = signer.dns_record()
    except ConfigurationError as exc:
        return DkimStatus(False, problem=exc.message)
    return DkimStatus(True, signer.dns_name, record, signer.domain,
                      aligned=not settings.smtp_from
                      or signer.aligned_with(parseaddr(settings.smtp_from)[1]))
