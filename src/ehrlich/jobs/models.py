"""The queue's tables: jobs waiting or running, effects under way, periodic slots taken.

A job row is deleted when its job has finished (the acknowledgement), in the same
transaction as the job's own database effect where the handler asks for it. A
worker that takes a job holds a lease (`lease_until`, renewed by its heartbeat)
and a claim token; a job whose lease ran out belongs to a dead worker and is
taken again. The claim token fences a worker whose lease was taken from it: its
acknowledgement matches no row, and its transaction rolls back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ehrlich.storage.base import Base, UTCDateTime

QUEUED = "queued"
RUNNING = "running"
FAILED = "failed"


class QueuedJob(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Who runs it (host:pid), for the operator; kept after a failure."""
    failure: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)


class JobEffect(Base):
    """An effect outside the database (an SMTP transaction) that a job has begun.

    Written before the effect, deleted with the job's acknowledgement: a row left
    behind means a worker died between the two, so the effect may have happened.
    """

    __tablename__ = "job_effects"

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PeriodicSlot(Base):
    """One row per periodic task and minute it was due: the first worker to insert
    it enqueues the run, every other worker's insert fails on the key."""

    __tablename__ = "job_periodic_slots"

    task: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
