"""The sharing domain's errors: each says what to do."""

from __future__ import annotations

from ehrlich.errors import Conflict, InvalidInput, NotFound


class CopyNotFound(NotFound):
    pass


class CopyAlreadyDestroyed(Conflict):
    pass


class NoBasisForRecipient(InvalidInput):
    """The published notice does not name the recipient for the purpose: nobody is released."""


class TaskNotFound(NotFound):
    pass
