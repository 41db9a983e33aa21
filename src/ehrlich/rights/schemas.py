"""Shapes of the rights domain: request kinds and states, the access report, and the
interface through which other domains add a section to it (`ReportSectionSource`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from ehrlich.i18n import N_

Kind = Literal["access", "portability", "rectification", "erasure", "objection",
               "restriction"]
KINDS: tuple[Kind, ...] = ("access", "portability", "rectification", "erasure", "objection",
                           "restriction")
KIND_LABELS = {"access": N_("Access (Art. 15)"), "portability": N_("Portability (Art. 20)"),
               "rectification": N_("Rectification (Art. 16)"),
               "erasure": N_("Erasure (Art. 17)"), "objection": N_("Objection (Art. 21)"),
               "restriction": N_("Restriction (Art. 18)")}
Channel = Literal["self-service", "letter", "phone", "email", "in-person", "other"]
CHANNELS: tuple[Channel, ...] = ("self-service", "letter", "phone", "email", "in-person",
                                 "other")
CHANNEL_LABELS = {"self-service": N_("Self-service page"), "letter": N_("Letter"),
                  "phone": N_("Phone"), "email": N_("Email"), "in-person": N_("In person"),
                  "other": N_("Other")}
IdentityCheck = Literal["email-link", "known-address", "id-document", "call-back",
                        "account", "other"]
IDENTITY_CHECKS: tuple[IdentityCheck, ...] = ("email-link", "known-address", "id-document",
                                              "call-back", "account", "other")
IDENTITY_LABELS = {
    "email-link": N_("Followed a link mailed to the known address"),
    "known-address": N_("Came from the address we hold"),
    "id-document": N_("Identity document seen (not copied)"),
    "call-back": N_("Called back on the number we hold"),
    "account": N_("Signed in to their customer account"),
    "other": N_("Other (see result)")}
Status = Literal["open", "extended", "done", "refused"]
STATUSES: tuple[Status, ...] = ("open", "extended", "done", "refused")
STATUS_LABELS = {"open": N_("open"), "extended": N_("extended"), "done": N_("done"),
                 "refused": N_("refused")}
OPEN_STATUSES: tuple[Status, ...] = ("open", "extended")
BASIS_LABELS = {"consent": N_("your consent"), "contract": N_("a contract with you"),
                "legitimate_interest": N_("our legitimate interest"),
                "legal_obligation": N_("a legal obligation")}


@dataclass(frozen=True)
class RequestView:
    id: str
    kind: Kind
    channel: Channel
    subject_id: str | None
    received_at: datetime
    identity_check: IdentityCheck
    due_at: datetime
    extended_to: datetime | None
    extension_reason: str | None
    status: Status
    result: str | None
    recorded_by: str
    closed_at: datetime | None
    closed_by: str | None

    @property
    def due(self) -> datetime:
        """The date the answer is due, extension included."""
        return self.extended_to or self.due_at

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class NewRequest:
    """A request recorded by staff (letter, phone, mail…) or by the self-service page."""

    kind: Kind
    channel: Channel
    identity_check: IdentityCheck
    received_at: datetime
    subject_id: str | None = None


# -- the access report ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportSection:
    """A table another domain adds to a person's access report (e.g. disclosures:
    recipient, date, purpose, fields). `columns` name the cells of each row."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str | None = None


@runtime_checkable
class ReportSectionSource(Protocol):
    """Implemented by a domain service that holds something about a person the access
    report must show (Art. 15(1)(c): the recipients the data *have been* disclosed to).

    The rights domain finds every registered service that implements it; the section
    is read in the report's own transaction and must hold only the person's rows.
    """

    def report_section(self, session: Session, subject_id: str, *,
                       language: str) -> ReportSection: ...


@dataclass(frozen=True)
class PurposeEntry:
    """A purpose of the published notice that the person's records name."""

    id: str
    title: str
    legal_basis: str
    data_categories: list[str]
    retention: str
    retention_starts: str
    recipients: list[str]
    states: list[str]
    """The person's consent state on each channel of the purpose (`consent_states`)."""


@dataclass
class ConsentEntry:
    """One consent event as the report shows it. Not frozen: a frozen dataclass sets
    each field through `object.__setattr__`, and a report makes one per event. The
    fields after `event_hash` are in `report._ENTRY_COLUMNS`' order."""

    event_hash: str
    at: datetime
    purpose: str
    channel: str
    action: str
    legal_basis: str
    method: str
    notice_version: int | None
    notice_hash: str | None
    language: str
    text_shown: str | None
    text_hash: str | None
    form: str | None


@dataclass(frozen=True)
class AccessReport:
    """Everything held about one person (GDPR Art. 15 and 20), made for that person."""

    subject_id: str
    made_at: datetime
    email: str | None
    name: str | None
    phone: str | None
    attributes: dict[str, Any]
    source: str
    obtained_at: datetime
    created_at: datetime
    updated_at: datetime
    consents: list[ConsentEntry]
    purposes: list[PurposeEntry]
    suppressed_for: list[str]
    controller: str
    controller_contact: str
    notice_version: int | None
    sections: list[ReportSection] = field(default_factory=list)


@dataclass(frozen=True)
class Hold:
    """Data a legal obligation keeps after an erasure: what, why and until when."""

    purpose: str
    title: str
    data_categories: list[str]
    until: datetime


@dataclass(frozen=True)
class ErasureOutcome:
    erased: bool
    """True: everything is shredded. False: `holds` keep some data until their date."""
    holds: list[Hold] = field(default_factory=list)
    kept_fields: list[str] = field(default_factory=list)
    request_id: str | None = None
