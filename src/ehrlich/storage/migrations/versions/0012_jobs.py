"""jobs: the durable queue in the database (acknowledged after completion)

Revision ID: 0012_jobs
Revises: 0001_foundation
Create Date: 2026-11-30 13:40:00

Jobs used to live in huey's storage (a SQLite file beside the database, a
PostgreSQL table or Redis), which removed a job when a worker started it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0012_jobs'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('run_at', UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim', sa.String(length=36), nullable=True),
    sa.Column('lease_until', UTCDateTime(), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('failure', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('ix_jobs_status_run_at', 'jobs', ['status', 'run_at'], unique=False)
    op.create_table('job_effects',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_effects'))
    )
    op.create_table('job_periodic_slots',
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('slot', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('task', 'slot', name=op.f('pk_job_periodic_slots'))
    )


def downgrade() -> None:
    op.drop_table('job_periodic_slots')
    op.drop_table('job_effects')
    op.drop_index('ix_jobs_status_run_at', table_name='jobs')
    op.drop_table('jobs')
