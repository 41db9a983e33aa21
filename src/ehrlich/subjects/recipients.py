"""Whom a mail goes to, without showing the address to whoever holds it."""

from __future__ import annotations


class Recipient:
    """Someone a mail can be addressed to: a subject id, with the address sealed inside.

    Other domains hold it and hand it back to `SubjectsService.send_mail`; only
    the subjects service reads the address (it is left out of `repr`, so of logs too).
    """

    __slots__ = ("_address", "subject_id")

    def __init__(self, subject_id: str, address: str) -> None:
        self.subject_id = subject_id
        self._address = address

    def __repr__(self) -> str:
        return f"Recipient(subject_id={self.subject_id!r})"
