"""breach: the breach register (GDPR Art. 33(5))

Revision ID: 0013_breaches
Revises: 0001_foundation
Create Date: 2026-11-30 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0013_breaches'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('breaches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('what_happened', sa.Text(), nullable=False),
    sa.Column('noticed_at', UTCDateTime(), nullable=False),
    sa.Column('data_categories', sa.Text(), nullable=False),
    sa.Column('people_estimate', sa.Integer(), nullable=True),
    sa.Column('scope_actor', sa.String(length=200), nullable=True),
    sa.Column('scope_start', UTCDateTime(), nullable=True),
    sa.Column('scope_end', UTCDateTime(), nullable=True),
    sa.Column('people_counted', sa.Integer(), nullable=True),
    sa.Column('batch_rows', sa.Integer(), nullable=True),
    sa.Column('counted_at', UTCDateTime(), nullable=True),
    sa.Column('consequences', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('authority_notified_at', UTCDateTime(), nullable=True),
    sa.Column('authority_reference', sa.String(length=200), nullable=True),
    sa.Column('authority_not_notified', sa.Text(), nullable=True),
    sa.Column('tell_people', sa.String(length=16), nullable=False),
    sa.Column('tell_people_reason', sa.Text(), nullable=False),
    sa.Column('people_notified_at', UTCDateTime(), nullable=True),
    sa.Column('notice_en', sa.Text(), nullable=True),
    sa.Column('notice_de', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('opened_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_breaches_status', 'breaches', ['status', 'noticed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_breaches_status', table_name='breaches')
    op.drop_table('breaches')
