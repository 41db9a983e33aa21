"""The copies register and the disclosure log.

`copies`: one row per file handed to staff (a person's export, an audience, a
release for a recipient): who holds it, what it holds (counts, fields, format,
content digest, never the data), why, where it went, until when it may be kept,
and who confirmed it destroyed. `disclosure_batches` and `disclosures`: every
release to a recipient of the notice, one batch row (recipient, purpose, basis,
fields, notice versions) and one row per person released, so a person's access
report (GDPR Art. 15(1)(c)) and the notifications after an erasure (Art. 19)
can find who received their data. Ids only: nothing personal is stored here.

`recipient_endpoints`, `webhook_deliveries` and `recipient_tasks` (see
`sharing.webhooks` and `sharing.notifications`): where a recipient takes signed
webhooks (the secret sealed under the KEK), every message sent there with its
outcome (the body sealed, so a push of personal data is not readable in the table),
and the tasks for staff where a recipient has no endpoint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime, uuid_column_type


class Copy(Base):
    __tablename__ = "copies"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(200))
    """Who was handed the copy: `staff:<id>` or `cli:<account>`."""
    what: Mapped[str] = mapped_column(String(200))
    """A subject id, `purpose/channel`, or `recipient:purpose`."""
    fields: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300))
    destination: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    """`sha256:<hex>` of the bytes handed out; empty until the file was complete."""
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    destroyed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    destroyed_note: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (
        # open copies by expiry: the overdue count and the register's default view
        Index("ix_copies_open", "destroyed_at", "expires_at"),
        Index("ix_copies_holder", "holder", "issued_at"),
    )


class DisclosureBatch(Base):
    __tablename__ = "disclosure_batches"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(32))
    fields: Mapped[str] = mapped_column(String(300))
    notice_versions: Mapped[str] = mapped_column(String(300))
    """The published versions whose notice named the recipient for the purpose."""
    actor: Mapped[str] = mapped_column(String(200))
    copy_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    people: Mapped[int] = mapped_column(Integer, default=0)


class Disclosure(Base):
    """One person in one release."""

    __tablename__ = "disclosures"

    batch_id: Mapped[str] = mapped_column(uuid_column_type(),
                                          ForeignKey("disclosure_batches.id"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)

    __table_args__ = (Index("ix_disclosures_subject", "subject_id"),)


class ProcessorSync(Base):
    """How a purpose's audience is pushed to a processor of the notice: by signed webhook or
    as CSV over SFTP, on a schedule, with the fields the notice declares for it.

    The SFTP client key and known hosts are paths on the ehrlich host (like the backup's
    `backup_ssh_key`); a webhook goes to the recipient's endpoint (`recipient_endpoints`,
    with its signing secret)."""

    __tablename__ = "processor_syncs"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    """`sftp` or `webhook`."""
    sftp_host: Mapped[str] = mapped_column(String(255), default="")
    sftp_port: Mapped[int] = mapped_column(Integer, default=22)
    sftp_user: Mapped[str] = mapped_column(String(64), default="")
    sftp_path: Mapped[str] = mapped_column(String(500), default="")
    sftp_key: Mapped[str] = mapped_column(String(500), default="")
    sftp_known_hosts: Mapped[str] = mapped_column(String(500), default="")
    schedule: Mapped[str] = mapped_column(String(16), default="manual")
    """`manual`, `hourly` or `daily`."""
    fields: Mapped[str] = mapped_column(String(300))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """None until the first full push succeeded: the next run pushes everyone."""
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ux_processor_syncs", "recipient", "purpose", unique=True),)


class ProcessorMember(Base):
    """A person the processor holds for the sync, as of its last successful run: what the
    next run's additions and removals are counted against."""

    __tablename__ = "processor_members"

    sync_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("processor_syncs.id"),
                                         primary_key=True)
    subject_id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)

    __table_args__ = (Index("ix_processor_members_subject", "subject_id"),)


class ProcessorRun(Base):
    """One run of a sync: counts and the outcome, never a person."""

    __tablename__ = "processor_runs"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    sync_id: Mapped[str] = mapped_column(uuid_column_type(), ForeignKey("processor_syncs.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """`full`, `changes`, `removals` (withdrawals and erasures only) or `dry-run`."""
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    """`running`, `ok` or `failed`."""
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """People the processor holds, rectified since the last run and sent again."""
    batch_id: Mapped[str | None] = mapped_column(uuid_column_type(), nullable=True)
    """The disclosure batch of the people added and changed."""
    detail: Mapped[str] = mapped_column(String(500), default="")
    """What went wrong (the error's type and message, which never name a person)."""

    __table_args__ = (Index("ix_processor_runs_sync", "sync_id", "started_at"),)


class RecipientEndpoint(Base):
    """Where a recipient of the notice takes signed webhooks (one per recipient)."""

    __tablename__ = "recipient_endpoints"

    recipient: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_ct: Mapped[bytes] = mapped_column(LargeBinary)
    """The `whsec_…` signing secret, sealed under the KEK like a staff TOTP secret."""
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(200))


class WebhookDelivery(Base):
    """One message to a recipient's endpoint and what became of it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(80))
    """The `webhook-id` header: the same for every try, so the receiver can drop repeats."""
    recipient: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))
    """What the message is about, for the console (a subject id, a batch id)."""
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_webhook_deliveries_message_id"),
        Index("ix_webhook_deliveries_status", "status", "created_at"),
        Index("ix_webhook_deliveries_reference", "reference"),
        Index("ix_webhook_deliveries_recipient", "recipient", "created_at"),
    )


class RecipientTask(Base):
    """Something staff must tell a recipient by hand (it has no webhook endpoint)."""

    __tablename__ = "recipient_tasks"

    id: Mapped[str] = mapped_column(uuid_column_type(), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (
        UniqueConstraint("recipient", "event", "reference", name="uq_recipient_tasks_what"),
        Index("ix_recipient_tasks_open", "done_at", "created_at"),
    )
