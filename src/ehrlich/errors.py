"""Root of the domain errors.

Services raise these; `ehrlich.web.problems` turns them into RFC 9457 responses
and `ehrlich.cli.main` into exit codes, each in one place.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one input field."""

    field: str
    reason: str


class EhrlichError(Exception):
    """Base of every error a user can act on."""

    title = "Request failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(EhrlichError):
    """Input was refused; nothing was changed."""

    title = "Invalid input"

    def __init__(self, problems: list[FieldProblem]) -> None:
        detail = "; ".join(f"{p.field}: {p.reason}" for p in problems)
        super().__init__(detail)
        self.problems = problems

    @classmethod
    def one(cls, field: str, reason: str) -> InvalidInput:
        return cls([FieldProblem(field, reason)])


class NotFound(EhrlichError):
    title = "Not found"


class Conflict(EhrlichError):
    title = "Conflict"


class Gone(EhrlichError):
    title = "Gone"


class NotAllowed(EhrlichError):
    """The caller is known but may not do this."""

    title = "Forbidden"


class NotAuthenticated(EhrlichError):
    title = "Authentication required"


class ConfigurationError(EhrlichError):
    """The instance is set up wrongly; the message says how to fix it."""

    title = "Configuration error"


class IntegrityFailure(EhrlichError):
    """Stored data failed an integrity check (tampering, wrong key, corruption)."""

    title = "Integrity check failed"


def where_it_failed(exc: BaseException) -> str:
    """An exception for a log line: its type and the code lines it passed through, never
    its message (an SMTP error, for one, can name the recipient's address)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{type(exc).__name__}\n{frames}".rstrip()
