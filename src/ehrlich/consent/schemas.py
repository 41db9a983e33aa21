"""Input and output shapes of the consent ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ehrlich.consent.ledger.machine import Action, State
from ehrlich.i18n import N_
from ehrlich.subjects.schemas import EmailAddress, PlainText

Method = Literal["form", "api", "import-with-evidence", "email-confirmation",
                 "one-click-unsubscribe", "mail-request", "preference-centre", "admin",
                 "system"]
LegalBasis = Literal["consent", "contract", "legitimate_interest", "legal_obligation"]
ACTION_LABELS = {"requested": N_("asked for, waiting for confirmation"),
                 "confirmed": N_("confirmed"), "granted": N_("given"),
                 "withdrawn": N_("withdrawn"), "expired": N_("expired"),
                 "renewal-needed": N_("renewal needed"), "objected": N_("objected")}
"""How a consent event's action reads: in the person's report and on the console."""
METHOD_LABELS = {"form": N_("signup form"), "api": N_("from our systems (API)"),
                 "import-with-evidence": N_("from an imported list, with its proof"),
                 "email-confirmation": N_("a link mailed to this address"),
                 "one-click-unsubscribe": N_("one-click unsubscribe"),
                 "mail-request": N_("unsubscribe by mail"),
                 "preference-centre": N_("preference page"),
                 "admin": N_("by our staff"), "system": N_("automatically")}
"""How a consent event's method reads: in the person's report and on the console."""
# The channels an audience can be exported for: those with an address to send to.
AudienceChannel = Literal["email", "sms", "phone"]

PURPOSE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$"
MAX_TEXT_CHARS = 20_000


class Evidence(BaseModel):
    """Raw evidence from the request; the service truncates and hashes it before storing."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(default=None, max_length=2048)
    ip: str | None = Field(default=None, max_length=100)
    user_agent: str | None = Field(default=None, max_length=2000)
    sec_gpc: str | None = Field(default=None, max_length=100)


class ConsentInput(BaseModel):
    """One consent event to record: one subject, one purpose, one channel."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=36)
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    channel: str = Field(default="email", pattern=CHANNEL_PATTERN)
    action: Action
    method: Method
    legal_basis: LegalBasis = "consent"
    notice_version: int | None = Field(default=None, ge=1)
    notice_hash: str | None = Field(default=None, min_length=1, max_length=100)
    language: str = Field(default="en", pattern=LANGUAGE_PATTERN)
    text_shown: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    form: str | None = Field(default=None, max_length=500,
                             description="Form id or URL the person used")
    default_state: str = Field(default="unticked",
                               description="The control's state before the person acted")
    evidence: Evidence = Field(default_factory=Evidence)
    extra: dict[str, str] = Field(default_factory=dict, max_length=20,
                                  description="Further proof, e.g. the mail template hash")

    @field_validator("default_state")
    @classmethod
    def _unticked(cls, value: str) -> str:
        if value != "unticked":
            raise ValueError("consent controls must start unticked")
        return value

    @field_validator("extra")
    @classmethod
    def _short_values(cls, value: dict[str, str]) -> dict[str, str]:
        if any(len(k) > 64 or len(v) > 500 for k, v in value.items()):
            raise ValueError("keys are at most 64 and values at most 500 characters")
        return value


class RecordOutcome(BaseModel):
    event_id: str | None
    state: State
    changed: bool


class ConsentEventView(BaseModel):
    id: str
    subject_id: str
    purpose: str
    channel: str
    action: str
    legal_basis: str
    notice_version: int | None
    notice_hash: str | None
    language: str
    text_shown: str | None
    text_hash: str | None
    form: str | None
    default_state: str
    method: str
    actor: str
    at: datetime
    token_hash: str | None
    ip_network: str | None
    user_agent_hash: str | None
    sec_gpc: str | None
    extra: dict[str, str]
    prev_event_id: str | None
    hash: str


class ConsentCheck(BaseModel):
    """Whether an address may be contacted for a purpose on a channel right now."""

    purpose: str
    channel: str
    allowed: bool
    state: State


class SignupConsent(BaseModel):
    """One purpose the person ticked, with the exact consent text they were shown."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(pattern=PURPOSE_PATTERN)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class SignupInput(BaseModel):
    """A signup: the address, the published notice version shown, the consents ticked."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress = Field(min_length=3)
    name: Annotated[str | None, PlainText] = Field(default=None, max_length=200)
    language: str = Field(default="en", pattern=LANGUAGE_PATTERN)
    notice_version: int = Field(ge=1)
    notice_hash: str | None = Field(default=None, max_length=100,
                                    description="Optional: the published version's hash")
    consents: list[SignupConsent] = Field(min_length=1, max_length=20)
    form: str | None = Field(default=None, max_length=500,
                             description="Form id or URL the person used")

    @field_validator("form", "notice_hash")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("must not contain control characters")
        return value


class SignupReceipt(BaseModel):
    """The same answer for a new and a known address (no enumeration)."""

    status: Literal["confirmation-sent"] = "confirmation-sent"
    detail: str = "If the address is valid, a confirmation mail is on its way."
    gpc_honoured: list[str] = Field(
        default_factory=list,
        description="Purposes not requested because the browser sent Sec-GPC: 1")
