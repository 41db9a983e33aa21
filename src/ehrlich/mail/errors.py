"""Why a mail could not be built or delivered."""

from __future__ import annotations

from ehrlich.errors import ConfigurationError, EhrlichError


class MailRefused(EhrlichError):
    """The SMTP server refused the mail for good (5xx): retrying cannot help."""

    title = "Mail refused"


class MailDeferred(EhrlichError):
    """Delivery failed for now (server unreachable, 4xx); the queue retries later."""

    title = "Mail deferred"


class MaintenanceActive(EhrlichError):
    """The instance is in maintenance (e.g. a restore runs): no mail goes out."""

    title = "Maintenance"


class MailboxUnavailable(ConfigurationError):
    """An IMAP mailbox could not be opened or changed (unreachable, login, folder)."""

    title = "Mailbox unavailable"
