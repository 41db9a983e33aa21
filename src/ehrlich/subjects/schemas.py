"""Input and output shapes of the subjects service."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_ATTRIBUTES_BYTES = 64 * 1024


def _attributes_size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"is {size} bytes; at most {MAX_ATTRIBUTES_BYTES} are allowed")
    return value


class SubjectInput(BaseModel):
    """A new subject. At least an email or a phone number is needed."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None
    source: str = Field(default="api", min_length=1, max_length=200,
                        description="Where the data came from (GDPR Art. 14)")
    obtained_at: datetime | None = Field(default=None,
                                         description="When it was obtained; defaults to now")

    _check_attributes = field_validator("attributes")(_attributes_size)


class SubjectChanges(BaseModel):
    """Rectification: only the fields given change; null clears a field."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=64)
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
