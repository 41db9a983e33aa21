"""Refused input on the public forms, as a person reads it: each problem under the
field's visible label, in the page's language, tied to its input (WCAG 3.3.1).

Services and schemas say what is wrong in English, for the API and the log
(`FieldProblem(field, reason)`, pydantic's messages). `REASONS` lists the reasons
the public forms and an import's report of refused rows can actually produce, as
patterns with the numbers they carry; each is translated where it is shown, and a
reason not listed is shown as it was written (English, never the internal field
name: an unknown field reads as "this form"). A form names its fields with
`FormFields`: the internal name's first part (`consents[0].purpose` → `consents`)
gives the input's id and visible label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ehrlich.i18n import N_, translations

REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), text) for pattern, text in (
        # subjects.normalize and the forms' own checks
        (r"is empty", N_("Please fill in this field.")),
        (r"enter your email address", N_("Enter your whole email address.")),
        (r"is not a valid email address\b.*",
         N_("This is not a valid email address. Please check how it is written: it needs "
            "one @ sign and a domain after it, as in name@example.org.")),
        (r"is longer than (?P<n>\d+) characters", N_("Write at most %(n)s characters.")),
        # schemas: `subjects.schemas.plain_text`, the rights service's text check
        (r"must not contain control characters\b.*",
         N_("Please remove line breaks, tabs and other invisible control characters.")),
        (r"write at most (?P<n>\d+) characters", N_("Write at most %(n)s characters.")),
        # the signup form (consent.signup.form and the signup service)
        (r"tick at least one", N_("Tick at least one.")),
        (r"version \d+ is not the published notice.*",
         N_("The privacy notice changed while this page was open. Please check your "
            "choices and send the form again.")),
        # an import's rows (imports.rows), as its report lists them
        (r"an email address or a phone number is required",
         N_("An email address or a phone number is needed.")),
        (r"is in the future", N_("This date is in the future.")),
        (r"is not a date \(use YYYY-MM-DD or DD\.MM\.YYYY\)",
         N_("This is not a date. Write it as YYYY-MM-DD or DD.MM.YYYY.")),
        (r"has (?P<cells>\d+) cells; the first line names (?P<columns>\d+) columns",
         N_("This row has %(cells)s cells; the first line names %(columns)s columns.")),
        # pydantic's length rules (string_too_long, string_too_short)
        (r"String should have at most (?P<n>\d+) characters?",
         N_("Write at most %(n)s characters.")),
        (r"String should have at least (?P<n>\d+) characters?",
         N_("Write at least %(n)s characters.")),
    ))
"""Known reasons (matched in full) and how a person reads them, translated where shown."""

OTHER_FIELD = N_("This form")
"""The label of a problem with a field the form does not show (a stale or altered post)."""


def reason_text(reason: str, lang: str) -> str:
    """`reason` in `lang` if it is a known one; else as written, without pydantic's
    "Value error, " prefix."""
    reason = reason.removeprefix("Value error, ").strip()
    tr = translations(lang)
    for pattern, text in REASONS:
        match = pattern.fullmatch(reason)
        if match is not None:
            return tr.gettext(text) % match.groupdict()
    return reason


@dataclass(frozen=True)
class FieldError:
    field: str
    """the input's id ("" for a problem with no input of its own)"""
    id: str
    """the id of the error's text, for the input's `aria-describedby`"""
    label: str
    text: str


@dataclass(frozen=True)
class FormErrors:
    """The problems to list above a form, and which inputs they describe."""

    items: list[FieldError] = field(default_factory=list)

    @property
    def ids(self) -> dict[str, str]:
        """Input id → the id of its (first) error text."""
        found: dict[str, str] = {}
        for item in self.items:
            if item.field:
                found.setdefault(item.field, item.id)
        return found

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[FieldError]:
        return iter(self.items)


FormFields = Mapping[str, tuple[str, str]]
"""A form's fields: internal name → (the input's id, its visible label marked with N_)."""


def _root(name: str) -> str:
    return re.split(r"[.\[]", name, maxsplit=1)[0]


def field_errors(problems: Iterable[tuple[str, str]], fields: FormFields, lang: str
                 ) -> FormErrors:
    """`problems` (field, reason in English) as `fields`' labels and texts in `lang`."""
    tr = translations(lang)
    items = []
    for number, (name, reason) in enumerate(problems, 1):
        input_id, label = fields.get(_root(name), ("", OTHER_FIELD))
        items.append(FieldError(field=input_id, id=f"{input_id or 'form'}-error-{number}",
                                label=tr.gettext(label), text=reason_text(reason, lang)))
    return FormErrors(items)
