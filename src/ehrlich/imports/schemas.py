"""What an import is told: which column is which, where consent evidence is, and options."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ehrlich.consent.schemas import LANGUAGE_PATTERN, PURPOSE_PATTERN
from ehrlich.subjects.schemas import PlainText, has_control_characters

MAX_COLUMN = 200
Column = Annotated[str, Field(min_length=1, max_length=MAX_COLUMN), PlainText]
TARGETS = ("email", "name", "phone")


class ColumnMapping(BaseModel):
    """File columns for the contact's fields; `attributes` columns are kept as attributes."""

    model_config = ConfigDict(extra="forbid")

    email: Column | None = None
    name: Column | None = None
    phone: Column | None = None
    attributes: list[Column] = Field(default_factory=list, max_length=50)

    def columns(self) -> list[str]:
        return [c for c in (self.email, self.name, self.phone) if c] + self.attributes

    @classmethod
    def guessed(cls, header: list[str]) -> ColumnMapping:
        """The columns whose names say what they hold (English and German, as spreadsheets
        name them), preselected for the console's mapping step; the person chooses."""
        names: dict[str, str] = {}
        for column in header:  # a name the mapping would refuse is not offered
            if 0 < len(column) <= MAX_COLUMN and not has_control_characters(column):
                names.setdefault(_plain(column), column)
        return cls(**{field: next((names[n] for n in candidates if n in names), None)
                      for field, candidates in HEADER_NAMES.items()})


HEADER_NAMES = {
    "email": ("email", "emailadresse", "emailaddress", "mail", "mailadresse", "emails"),
    "name": ("name", "fullname", "vollername", "vollständigername", "kontakt", "contact",
             "vorname", "firstname", "givenname", "rufname"),
    "phone": ("phone", "telefon", "telefonnummer", "tel", "phonenumber", "mobile", "mobil",
              "mobilnummer", "handy", "handynummer", "mobilephone"),
}
"""Each field's column names, most telling first (as `_plain` writes them)."""


def _plain(column: str) -> str:
    return "".join(c for c in column.casefold() if c.isalnum())


class EvidenceMapping(BaseModel):
    """Where a row's proof of consent is. A row has evidence when its `source_column`
    cell is filled; such rows get a `granted` event (method `import-with-evidence`)
    with the notice version's consent text, or the row's own text when `text_column`
    names one. Rows without evidence come in without marketing consent."""

    model_config = ConfigDict(extra="forbid")

    source_column: Column | None = None
    date_column: Column | None = None
    version_column: Column | None = None
    text_column: Column | None = None
    notice_version: int | None = Field(default=None, ge=1)
    """The notice version shown when no `version_column` says; default: the published one."""

    def columns(self) -> list[str]:
        return [c for c in (self.source_column, self.date_column, self.version_column,
                            self.text_column) if c]


class ImportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[str, PlainText] = Field(min_length=1, max_length=200,
                                              description="Where the list came from (Art. 14)")
    purpose: str = Field(default="newsletter", pattern=PURPOSE_PATTERN)
    language: str = Field(default="en", pattern=LANGUAGE_PATTERN)
    ask_again: bool = False
    """Send a re-permission mail (double opt-in) to new contacts without evidence."""


class ImportPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: ColumnMapping
    evidence: EvidenceMapping = Field(default_factory=EvidenceMapping)
    options: ImportOptions


class RunView(BaseModel):
    id: str
    status: str
    source: str
    encoding: str
    delimiter: str
    total_rows: int
    done_rows: int
    created: int
    merged: int
    suppressed: int
    rejected: int
    with_evidence: int
    asked_again: int
    failure: str | None

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else self.done_rows * 100 // self.total_rows
