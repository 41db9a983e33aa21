"""What goes into and out of the campaigns service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ehrlich.campaigns.machine import Status

SendState = Literal["queued", "handed", "sent", "deferred", "bounced", "skipped"]
SEND_STATES: tuple[SendState, ...] = ("queued", "handed", "sent", "deferred", "bounced",
                                      "skipped")


class CampaignInput(BaseModel):
    """A campaign's content and audience; the templates are checked when it is saved."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=64)
    channel: Literal["email"] = "email"
    language: str = Field(default="en", min_length=2, max_length=35,
                          pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    subject: str = Field(min_length=1, max_length=300)
    text_body: str = Field(min_length=1, max_length=200_000)
    html_body: str = Field(default="", max_length=200_000)


@dataclass(frozen=True)
class CampaignView:
    id: str
    name: str
    status: Status
    purpose: str
    channel: str
    language: str
    subject: str
    text_body: str
    html_body: str
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    paused_reason: str | None = None
    """`complaints:N:DELIVERED` when ehrlich paused it for complaints (`campaigns.bounces`)."""


@dataclass(frozen=True)
class CampaignReport:
    """Counts per campaign: no per-person opens or clicks are kept."""

    audience: int
    queued: int
    sent: int
    """Accepted by the server (and handed over, answer not yet recorded)."""
    in_doubt: int
    """Handed over, the server's answer never recorded: a worker stopped in between. Sent,
    unless it stopped before the final dot reached the server (docs/campaigns.md)."""
    deferred: int
    bounced: int
    skipped: int
    """Left out at send time: consent withdrawn, suppressed or erased since it started."""
    unsubscribed: int
    """Of those sent, how many withdrew the campaign's purpose since it started."""
    delivered: int = 0
    """Sent, less the hard bounces reported since (DSN or provider)."""
    complained: int = 0
    """Complaints reported (ARF or provider), once per recipient."""
    bounce_rate: float = 0.0
    """Bounced (refused, or reported hard) of the mail tried."""
    complaint_rate: float = 0.0
    """Complained of delivered: above the limit (0.3 %), a sending campaign pauses."""


@dataclass(frozen=True)
class RunOutcome:
    status: Status
    sent: int
    deferred: int
    bounced: int
    skipped: int
    waiting: int
    """Deferred messages whose next try is later (the periodic job picks them up)."""
