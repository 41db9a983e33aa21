"""One file row to a contact and its evidence, or the reason it is refused.

Every field goes through the same rules as the API (`SubjectInput`: control
characters, lengths, attribute size) and the subjects service's address and
phone checks. Reasons name the file's column, never the cell's value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import ValidationError

from ehrlich.consent.schemas import MAX_TEXT_CHARS
from ehrlich.errors import InvalidInput
from ehrlich.imports.schemas import ImportPlan
from ehrlich.subjects.schemas import SubjectInput, plain_text
from ehrlich.subjects.service import PreparedSubject, SubjectsService

_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
MAX_EVIDENCE_CHARS = 500


@dataclass(frozen=True)
class Rejected:
    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    source: str
    given_at: str | None
    notice_version: int | None
    text: str | None


@dataclass(frozen=True)
class Accepted:
    row: int
    data: SubjectInput
    prepared: PreparedSubject
    evidence: Evidence | None

    @property
    def email_index(self) -> bytes | None:
        return self.prepared.email_index


def parse_date(text: str, *, now: datetime) -> datetime:
    """ISO 8601 (date or date and time) or the German DD.MM.YYYY; not in the future."""
    when = _parsed(text.strip())
    if when > now:
        raise ValueError("is in the future")
    return when


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> datetime:
    """A date as `parse_date` reads it, in UTC; kept for the next row with the same text
    (a list's opt-in dates repeat)."""
    found = _GERMAN_DATE.fullmatch(text)
    try:
        if found:
            day, month, year = (int(g) for g in found.groups())
            when = datetime(year, month, day, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text) if "T" in text or " " in text else (
                datetime.combine(date.fromisoformat(text), datetime.min.time()))
            when = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError("is not a date (use YYYY-MM-DD or DD.MM.YYYY)") from None
    return when.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _iso(when: datetime) -> str:
    """`when.isoformat()`, kept like `_parsed`: a list's opt-in dates repeat."""
    return when.isoformat()


class RowReader:
    """Turns rows of one file into `Accepted` or `Rejected`, by an import plan."""

    def __init__(self, header: list[str], plan: ImportPlan, subjects: SubjectsService, *,
                 now: datetime) -> None:
        self._width = len(header)
        self._at = {name: i for i, name in enumerate(header) if name}
        self._plan = plan
        self._subjects = subjects
        self._now = now
        mapping, spec = plan.mapping, plan.evidence
        self._columns = {"email": mapping.email, "name": mapping.name, "phone": mapping.phone}
        self._email, self._name, self._phone = (self._index(c) for c in (
            mapping.email, mapping.name, mapping.phone))
        self._attributes = [(c, self._at[c]) for c in mapping.attributes]
        self._source = plan.options.source
        self._evidence_at = tuple(self._index(c) for c in (
            spec.source_column, spec.date_column, spec.version_column, spec.text_column))

    def _index(self, column: str | None) -> int | None:
        return None if column is None else self._at[column]

    @staticmethod
    def _cell(cells: Sequence[str], at: int | None) -> str | None:
        if at is None:
            return None
        return cells[at].strip() or None

    def _field_column(self, loc: tuple[int | str, ...]) -> str:
        field = str(loc[0]) if loc else "row"
        if field == "attributes" and len(loc) > 1:
            return str(loc[1])
        return self._columns.get(field) or field

    def _evidence(self, cells: Sequence[str]) -> Evidence | None:
        source_at, date_at, version_at, text_at = self._evidence_at
        source = self._cell(cells, source_at)
        if source is None:
            return None
        spec = self._plan.evidence
        given = self._cell(cells, date_at)
        version_text = self._cell(cells, version_at)
        version = spec.notice_version
        if version_text is not None:
            if not version_text.isdigit() or int(version_text) < 1:
                raise InvalidInput.one(spec.version_column or "", "is not a notice version "
                                       "number")
            version = int(version_text)
        text = self._cell(cells, text_at)
        for column, value, limit in ((spec.source_column, source, MAX_EVIDENCE_CHARS),
                                     (spec.text_column, text, MAX_TEXT_CHARS)):
            if value is None:
                continue
            if len(value) > limit:
                raise InvalidInput.one(column or "", f"is longer than {limit} characters")
            try:
                plain_text(value)
            except ValueError as exc:
                raise InvalidInput.one(column or "", str(exc)) from None
        try:
            given_at = _iso(parse_date(given, now=self._now)) if given else None
        except ValueError as exc:
            raise InvalidInput.one(spec.date_column or "", str(exc)) from None
        return Evidence(source, given_at, version, text)

    def read(self, number: int, cells: Sequence[str]) -> Accepted | Rejected:
        if len(cells) != self._width:
            return Rejected(number, "row", f"has {len(cells)} cells; the first line names "
                            f"{self._width} columns")
        attributes = {c: v for c, at in self._attributes if (v := cells[at].strip())}
        try:
            data = SubjectInput(email=self._cell(cells, self._email),
                                name=self._cell(cells, self._name),
                                phone=self._cell(cells, self._phone),
                                attributes=attributes or None, source=self._source)
        except ValidationError as exc:
            error = exc.errors(include_input=False, include_url=False)[0]
            return Rejected(number, self._field_column(tuple(error["loc"])),
                            error["msg"].removeprefix("Value error, "))
        try:
            evidence = self._evidence(cells)
            prepared = self._subjects.prepare(data, now=self._now)
        except InvalidInput as exc:
            problem = exc.problems[0]
            return Rejected(number, self._columns.get(problem.field) or problem.field,
                            problem.reason)
        return Accepted(number, data, prepared, evidence)
