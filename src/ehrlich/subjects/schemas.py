"""Input and output shapes of the subjects service."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MAX_ATTRIBUTES_BYTES = 64 * 1024
# Bidirectional embeddings, overrides and isolates: they make stored text read
# differently from what it is ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")


# Unicode's categories Cc (U+0000-U+001F, U+007F-U+009F) and Cs (U+D800-U+DFFF) are
# closed ranges; one character class finds them and the others in one pass.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff"
                      + "".join(sorted(BIDI_CONTROLS | LINE_SEPARATORS)) + "]")


def has_control_characters(text: str) -> bool:
    """True if `text` holds a C0/C1 control (NUL, ESC, CR, LF, TAB…), a lone surrogate,
    a Unicode line separator or a bidi override. Joiners and direction marks, which
    names in some scripts need, are allowed."""
    return _CONTROL.search(text) is not None


def plain_text(value: str | None) -> str | None:
    """The one rule for free text from outside (API, forms, CLI): no control characters."""
    if value is not None and has_control_characters(value):
        raise ValueError("must not contain control characters (line breaks, tabs, NUL, "
                         "escape or bidirectional overrides)")
    return value


def _plain_json(value: Any, where: str) -> None:
    if isinstance(value, str):
        if has_control_characters(value):
            raise ValueError(f"{where} must not contain control characters (line breaks, "
                             "tabs, NUL, escape or bidirectional overrides)")
    elif isinstance(value, dict):
        for key, item in value.items():
            if has_control_characters(str(key)):
                raise ValueError(f"a key in {where} must not contain control characters "
                                 "(line breaks, tabs, NUL, escape or bidirectional overrides)")
            _plain_json(item, f"{where}.{key}")
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _plain_json(item, f"{where}[{number}]")


_MOST_PER_CHAR = 12
"""Bytes `json.dumps` writes at most for one character: an escaped surrogate pair."""


def _surely_small(value: dict[str, Any]) -> bool:
    """True when a flat dict of strings is certainly under the size limit, so the usual
    case (a few short columns of an import row) needs no JSON encoding to be checked."""
    chars = 2
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            return False
        chars += len(key) + len(item) + 6  # two pairs of quotes, the colon and a comma
    return chars * _MOST_PER_CHAR <= MAX_ATTRIBUTES_BYTES


def _attributes_size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        if not _surely_small(value):
            size = len(json.dumps(value, separators=(",", ":")).encode())
            if size > MAX_ATTRIBUTES_BYTES:
                raise ValueError(f"is {size} bytes; at most {MAX_ATTRIBUTES_BYTES} are "
                                 "allowed")
        _plain_json(value, "attributes")
    return value


PlainText = AfterValidator(plain_text)
# An address as the API documents it; the service normalises and checks it.
EmailAddress = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}),
                         PlainText]


class SubjectInput(BaseModel):
    """A new subject. At least an email or a phone number is needed."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress | None = None
    name: Annotated[str | None, PlainText] = Field(default=None, max_length=500)
    phone: Annotated[str | None, PlainText] = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None
    source: Annotated[str, PlainText] = Field(
        default="api", min_length=1, max_length=200,
        description="Where the data came from (GDPR Art. 14)")
    obtained_at: datetime | None = Field(default=None,
                                         description="When it was obtained; defaults to now")

    _check_attributes = field_validator("attributes")(_attributes_size)


class SubjectChanges(BaseModel):
    """Rectification: only the fields given change; null clears a field."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress | None = None
    name: Annotated[str | None, PlainText] = Field(default=None, max_length=500)
    phone: Annotated[str | None, PlainText] = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None

    _check_attributes = field_validator("attributes")(_attributes_size)


class SubjectView(BaseModel):
    id: str
    state: str
    email: str | None
    name: str | None
    phone: str | None
    attributes: dict[str, Any]
    source: str
    obtained_at: datetime
    created_at: datetime
    updated_at: datetime


class CreateOutcome(BaseModel):
    subject: SubjectView
    created: bool


class BulkOutcome(BaseModel):
    created: int
    duplicates: int


class MaskedContact(BaseModel):
    """A row of the contact list: values masked, never whole."""

    id: str
    email: str | None
    phone: str | None
    name: str | None
    source: str
    created_at: datetime


class MaskedSubject(MaskedContact):
    attributes: dict[str, str]
    obtained_at: datetime
    updated_at: datetime


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, PlainText] = Field(min_length=1, max_length=2000)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


class NoteView(BaseModel):
    id: str
    author: str
    created_at: datetime
    body: str
