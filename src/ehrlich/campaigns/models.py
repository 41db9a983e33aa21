"""Campaign tables: the campaign itself, and one send row per recipient.

`campaign_sends` is the exactly-once record (`campaigns.sending`): a row is
written for every person in the audience when sending starts and moves
`queued` → `handed` → `sent` (or `deferred` → ... , `bounced`, `skipped`).
It holds ids, states and the consent event that allowed the mail, never an
address: the address is read from the subjects service each time a batch goes out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    audience_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """How many send rows the audience gave when sending started; None until all are written."""
    paused_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Why ehrlich paused it by itself (complaints above the limit); None otherwise."""
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The worker sending it now (host:pid:nonce); one at a time."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignSend(Base):
    """One recipient of one campaign; committed around each SMTP transaction."""

    __tablename__ = "campaign_sends"

    campaign_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("campaigns.id"),
                                             primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(200))
    consent_event_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    """The consent event that allowed the mail, as the state stood when it was handed over."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_reply: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The server's code and a short reason for the last refusal or deferral."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_campaign_sends_state", "campaign_id", "state", "subject_id"),
        Index("ix_campaign_sends_message_id", "message_id"),
    )


class CampaignFeedback(Base):
    """A bounce or complaint reported after the server accepted a campaign mail.

    One row per send and kind (`hard`, `soft`, `complaint`), so a report that arrives
    twice (a provider's retry, a DSN and a webhook for the same bounce) counts once.
    Ids and codes only: the address in the report is never stored.
    """

    __tablename__ = "campaign_feedback"

    campaign_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("campaigns.id"),
                                             primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The enhanced status code (RFC 3463) a bounce gave, e.g. 5.1.1."""
    source: Mapped[str] = mapped_column(String(16))
    """`webhook` or `mailbox`."""
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignWebhookKey(Base):
    """A webhook secret made in the console: only its generation is stored. The secret is
    derived from the instance's token key and the generation (`campaigns.webhook`), so
    nothing secret is in the database; a new generation replaces the one before."""

    __tablename__ = "campaign_webhook_keys"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
