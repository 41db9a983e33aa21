"""The sharing domain's errors: each says what to do."""

from __future__ import annotations

from ehrlich.errors import ConfigurationError, Conflict, InvalidInput, NotFound


class CopyNotFound(NotFound):
    pass


class CopyAlreadyDestroyed(Conflict):
    pass


class NoBasisForRecipient(InvalidInput):
    """The published notice does not name the recipient for the purpose: nobody is released."""


class TaskNotFound(NotFound):
    pass


class NoWebhookEndpoint(ConfigurationError):
    """A webhook sync to a recipient that has no endpoint to deliver to."""
