"""SMTP delivery with smtplib: plain, STARTTLS or implicit TLS, optional AUTH.

Failures are sorted once: a refusal with a 5xx code is `MailRefused` (retrying
cannot help), everything else, from a refused connection to a 4xx answer, is
`MailDeferred` and left to the queue's retries.

An address with non-ASCII characters (`jürgen@example.org`; a domain is sent in
its ASCII form) goes out with SMTPUTF8 (RFC 6531); a server that does not offer it
cannot take the mail, and that is `MailRefused` too.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from ehrlich.errors import ConfigurationError
from ehrlich.mail.errors import MailDeferred, MailRefused
from ehrlich.settings import Settings

TlsMode = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: TlsMode = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        if not settings.smtp_host:
            return None
        if settings.smtp_username and settings.smtp_password is None:
            raise ConfigurationError("EHRLICH_SMTP_USERNAME is set but EHRLICH_SMTP_PASSWORD "
                                     "is not; set both or neither")
        if not settings.smtp_from:
            raise ConfigurationError("EHRLICH_SMTP_HOST is set but EHRLICH_SMTP_FROM is not; "
                                     "set it to the sender, e.g. 'Shop <news@example.org>'")
        return cls(host=settings.smtp_host, port=settings.smtp_port, tls=settings.smtp_tls,
                   username=settings.smtp_username, password=settings.smtp_password,
                   ca_file=settings.smtp_ca_file, timeout=settings.smtp_timeout)


SMTPUTF8_OPTIONS = ("SMTPUTF8", "BODY=8BITMIME")
NO_SMTPUTF8 = ("the mail server does not take addresses with non-ASCII characters "
               "(it offers no SMTPUTF8, RFC 6531)")


def smtputf8_options(*addresses: str) -> tuple[str, ...]:
    """The MAIL FROM parameters for these envelope addresses: SMTPUTF8 (and 8-bit
    content, which it implies) when one of them is not ASCII."""
    return () if all(a.isascii() for a in addresses) else SMTPUTF8_OPTIONS


def _permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.tls == "ssl":
            return smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout,
                                    context=self._tls_context())
        client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        if c.tls == "starttls":
            client.starttls(context=self._tls_context())
        return client

    def deliver(self, *, mail_from: str, to: str, message: bytes,
                accepted: Callable[[], None] | None = None) -> None:
        """Hand one message to the server; raises `MailRefused` or `MailDeferred`.

        `accepted` runs as soon as the server has taken the message (its answer to
        the end of DATA), before QUIT: the caller records the delivery there, so a
        crash can fall between the two only for that moment.
        """
        try:
            client = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            raise self._sorted(exc) from exc
        try:
            try:
                if self.config.username and self.config.password is not None:
                    client.login(self.config.username, self.config.password.get_secret_value())
                client.sendmail(mail_from, [to], message,
                                mail_options=smtputf8_options(mail_from, to))
            except smtplib.SMTPNotSupportedError as exc:  # SMTPUTF8 needed, not offered
                raise MailRefused(NO_SMTPUTF8) from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise self._sorted(exc) from exc
            if accepted is not None:
                accepted()
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()
            client.close()

    def _sorted(self, exc: BaseException) -> MailDeferred | MailRefused:
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(_permanent(code) for code in codes):
                return MailRefused(f"the server refused the recipient ({codes[0]})")
            return MailDeferred(f"the server deferred the recipient ({codes})")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            # Wrong credentials are a configuration problem: keep the mail, retry later.
            return MailDeferred(f"SMTP login failed ({exc.smtp_code})")
        if isinstance(exc, smtplib.SMTPResponseException):
            if _permanent(exc.smtp_code):
                return MailRefused(f"the server refused the mail ({exc.smtp_code})")
            return MailDeferred(f"the server deferred the mail ({exc.smtp_code})")
        return MailDeferred(f"SMTP server {self.config.host}:{self.config.port} "
                            f"not usable: {exc}")
