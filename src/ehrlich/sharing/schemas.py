"""What the sharing domain takes and gives: copy requests and views, filters, disclosures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from ehrlich.i18n import N_

KIND_CONTACT = "contact"        # one person's data (the contacts page's export)
KIND_AUDIENCE = "audience"      # the people of a purpose and channel
KIND_DISCLOSURE = "disclosure"  # a release for a recipient of the notice
KINDS = (KIND_CONTACT, KIND_AUDIENCE, KIND_DISCLOSURE)
Format = Literal["csv", "ndjson", "json"]
FORMATS: tuple[Format, ...] = ("csv", "ndjson", "json")
Status = Literal["open", "overdue", "destroyed"]
STATUSES: tuple[Status, ...] = ("open", "overdue", "destroyed")


@dataclass(frozen=True)
class CopyRequest:
    """A file about to be handed to someone: what it holds and why, as they state it."""

    kind: str
    what: str
    fields: tuple[str, ...]
    format: Format
    reason: str
    destination: str
    expires: date | None = None
    """The day by which it must be destroyed; None: the instance's default period."""


@dataclass(frozen=True)
class IssuedCopy:
    id: str
    expires_at: datetime


@dataclass(frozen=True)
class CopyView:
    id: str
    kind: str
    holder: str
    what: str
    fields: tuple[str, ...]
    format: str
    reason: str
    destination: str
    issued_at: datetime
    expires_at: datetime
    rows: int | None
    digest: str | None
    completed_at: datetime | None
    destroyed_at: datetime | None
    destroyed_by: str | None
    destroyed_note: str | None
    status: Status


@dataclass(frozen=True)
class CopyFilters:
    status: Status | None = None
    kind: str | None = None
    holder: str | None = None


@dataclass(frozen=True)
class DisclosureView:
    """One release of a person's data to a recipient, for their access report."""

    batch_id: str
    recipient: str
    purpose: str
    basis: str
    fields: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class AudienceCount:
    purpose: str
    channel: str
    title: str
    people: int
    declared: bool = True
    """A purpose and channel of the published notice (only those can be exported)."""


# The states and kinds as the register's pages show them (translated there).
LABELS = {"open": N_("open"), "overdue": N_("overdue"), "destroyed": N_("destroyed"),
          "contact": N_("contact"), "audience": N_("audience"),
          "disclosure": N_("disclosure")}

# How a release's fields read in the person's access report (translated there).
FIELD_LABELS = {"id": N_("our reference number for you"), "email": N_("email address"),
                "phone": N_("phone number"), "unsubscribe_url": N_("your unsubscribe link"),
                "preferences_url": N_("your preferences link")}
