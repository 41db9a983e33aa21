"""The notice file's schema ("privacy as code") and what the linter reports.

A notice declares who the controller is, which data categories exist, who
else receives data, and per purpose: why, on which legal basis, which data,
over which channel, for how long, to whom, and (for consent) the exact
consent text per language. English and German are always required.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ehrlich.notices.durations import Duration, parse_duration

REQUIRED_LANGUAGES = ("en", "de")
# EU member states plus Iceland, Liechtenstein and Norway: no transfer safeguards needed.
EEA = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"))

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
LegalBasis = Literal["consent", "contract", "legitimate_interest", "legal_obligation"]
Channel = Literal["email", "sms", "phone", "post", "web", "none"]


def _language_order(value: dict[str, str]) -> dict[str, str]:
    """Required languages first, then the others alphabetically: one order for every copy."""
    order = {lang: i for i, lang in enumerate(REQUIRED_LANGUAGES)}
    return dict(sorted(value.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _sorted_keys(value: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(value.items()))


def _has_required_languages(value: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in value]
    if missing:
        raise ValueError(f"missing language {', '.join(repr(m) for m in missing)} "
                         f"(required: {', '.join(REQUIRED_LANGUAGES)})")
    for lang, text in value.items():
        if not text.strip():
            raise ValueError(f"the {lang!r} text is empty")
    return _language_order(value)


def _concrete(value: str) -> str:
    parse_duration(value)
    return value


Localised = Annotated[dict[Language, Text], AfterValidator(_has_required_languages)]
DurationText = Annotated[str, AfterValidator(_concrete)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Dpo(_Strict):
    name: Text | None = None
    contact: Text


class Controller(_Strict):
    name: Text
    address: Text
    contact: Text = Field(description="email address or URL where people reach the controller")
    dpo: Dpo | None = None
    supervisory_authority: Text | None = None


class Recipient(_Strict):
    id: Slug
    name: Text
    role: Literal["processor", "controller"]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    safeguards: Localised | None = None
    """For transfers outside the EU/EEA: adequacy decision, standard contractual clauses, ..."""

    @property
    def outside_eea(self) -> bool:
        return self.country not in EEA


class Retention(_Strict):
    duration: DurationText
    starts: Localised
    """When the clock starts, e.g. "after you withdraw consent"."""

    @property
    def period(self) -> Duration:
        return parse_duration(self.duration)


class Consent(_Strict):
    text: Annotated[dict[Language, Text], AfterValidator(_language_order)]
    default: Literal["unticked", "ticked"] = "unticked"


class Purpose(_Strict):
    id: Slug
    title: Localised
    description: Localised
    legal_basis: LegalBasis
    legitimate_interest: Localised | None = None
    data_subjects: Localised | None = None
    data_categories: Annotated[list[Slug], Field(min_length=1)]
    channel: Channel = "none"
    retention: Retention
    recipients: list[Slug] = []
    consent: Consent | None = None


class Notice(_Strict):
    format: Literal[1]
    languages: list[Language] = list(REQUIRED_LANGUAGES)
    controller: Controller
    data_categories: Annotated[dict[Slug, Localised], AfterValidator(_sorted_keys)]
    recipients: list[Recipient] = []
    purposes: Annotated[list[Purpose], Field(min_length=1)]
    security_measures: Localised | None = None

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def recipient(self, recipient_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.id == recipient_id), None)


Path = tuple[str | int, ...]


def _unique_ids(notice: Notice) -> Iterator[tuple[Path, str]]:
    lists: tuple[tuple[str, list[str]], ...] = (
        ("recipients", [r.id for r in notice.recipients]),
        ("purposes", [p.id for p in notice.purposes]))
    for kind, ids in lists:
        seen: set[str] = set()
        for i, item_id in enumerate(ids):
            if item_id in seen:
                yield (kind, i, "id"), f"id {item_id!r} is used twice"
            seen.add(item_id)


def _references(notice: Notice, i: int, purpose: Purpose) -> Iterator[tuple[Path, str]]:
    recipient_ids = {r.id for r in notice.recipients}
    for j, category in enumerate(purpose.data_categories):
        if category not in notice.data_categories:
            yield (("purposes", i, "data_categories", j),
                   f"unknown data category {category!r}; declare it under `data_categories`")
    for j, recipient_id in enumerate(purpose.recipients):
        if recipient_id not in recipient_ids:
            yield (("purposes", i, "recipients", j),
                   f"unknown recipient {recipient_id!r}; declare it under `recipients`")


def _purpose_problems(notice: Notice, i: int, purpose: Purpose
                      ) -> Iterator[tuple[Path, str]]:
    yield from _references(notice, i, purpose)
    if purpose.consent is not None and purpose.legal_basis != "consent":
        yield (("purposes", i, "consent"),
               f"a consent text on a purpose whose legal basis is {purpose.legal_basis} "
               "misleads people; remove it")
    if purpose.legal_basis == "legitimate_interest" and purpose.legitimate_interest is None:
        yield (("purposes", i, "legal_basis"),
               "name the legitimate interest in `legitimate_interest` (Art. 13(1)(d))")
    for name in ("title", "description"):
        for lang in notice.languages:
            if lang not in getattr(purpose, name):
                yield ("purposes", i, name), f"missing language {lang!r}"


def reference_problems(notice: Notice) -> list[tuple[Path, str]]:
    """What the structure alone cannot say: unique ids, references, basis-specific fields."""
    problems: list[tuple[Path, str]] = [(("languages",), f"must include {lang!r}")
                for lang in REQUIRED_LANGUAGES if lang not in notice.languages]
    problems += _unique_ids(notice)
    for i, recipient in enumerate(notice.recipients):
        if recipient.outside_eea and recipient.safeguards is None:
            problems.append((("recipients", i, "country"),
                             f"{recipient.country} is outside the EU/EEA: add `safeguards` "
                             "(adequacy decision, standard contractual clauses, ...)"))
    for i, purpose in enumerate(notice.purposes):
        problems += _purpose_problems(notice, i, purpose)
    return problems


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem in a notice file: where, which rule, what, and how to fix it."""

    file: str
    line: int
    column: int
    rule: str
    severity: Severity
    message: str
    suggestion: str = ""

    def as_text(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.severity} [{self.rule}] {self.message}"
        return text + (f"\n    suggestion: {self.suggestion}" if self.suggestion else "")

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "rule": self.rule,
                "severity": self.severity, "message": self.message,
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class VersionInfo:
    number: int
    sha256: str
    published_at: datetime
    publisher: str


@dataclass(frozen=True)
class Brand:
    """How the public pages name the business (`branding` reads and saves it); `version`
    changes whenever any of it changes."""

    name: str
    contact: str
    accent: str
    logo_type: str | None
    version: str
    saved: bool
    """False while the public pages fall back to the notice's controller."""
    provisional: bool = False
    """True for the product's own name before any notice is published: never kept,
    since the first publication (often from another process, the command line) must
    name the business at once."""
