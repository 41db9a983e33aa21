"""Whom a mail goes to, without showing the address to whoever holds it."""

from __future__ import annotations


class Recipient:
    """Someone a mail can be addressed to: a subject id, with the address sealed inside.

    Other domains hold it and hand it back to `SubjectsService.send_mail`; only
    the subjects service reads the address (it is left out of `repr`, so of logs too).
    `name` is the person's own name, for a greeting in a mail to them (or None).
    """

    __slots__ = ("_address", "name", "subject_id")

    def __init__(self, subject_id: str, address: str, name: str | None = None) -> None:
        self.subject_id = subject_id
        self._address = address
        self.name = name

    def __repr__(self) -> str:
        return f"Recipient(subject_id={self.subject_id!r})"
