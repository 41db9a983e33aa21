"""Errors of the notices domain."""

from __future__ import annotations

from ehrlich.errors import FieldProblem, InvalidInput, NotFound
from ehrlich.notices.schemas import Finding


class NoticeInvalid(InvalidInput):
    """The notice file cannot be read, breaks the schema, or fails the linter."""

    title = "Invalid notice"

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__([FieldProblem(f"{f.file}:{f.line}:{f.column}", f.message)
                          for f in findings])
        self.findings = findings


class NoticeNotPublished(NotFound):
    title = "No notice published"
