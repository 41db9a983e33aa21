"""overview counts kept at write time: consent events per day, active consents,
subjects per state

Revision ID: 0012_overview_counts
Revises: 0009_consent_activity_index
Create Date: 2026-11-30 13:50:00

The console's overview read its figures with grouped queries over the ledger and the
subjects table, whose cost grows with the population. These tables hold the same
counts, moved in the transactions that write the rows they count; this migration
fills them from the existing rows (shard 0), so an upgraded instance starts right.
The index on (at, action) served only those grouped queries and goes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_overview_counts'
down_revision: str | Sequence[str] | None = '0009_consent_activity_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'consent_daily_counts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('purpose', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'purpose', 'channel', 'action', 'shard',
                                name=op.f('pk_consent_daily_counts')))
    op.create_table(
        'consent_active_counts',
        sa.Column('purpose', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('purpose', 'channel', 'shard',
                                name=op.f('pk_consent_active_counts')))
    op.create_table(
        'subject_counts',
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('shard', sa.Integer(), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('state', 'shard', name=op.f('pk_subject_counts')))
    day = ("date(timezone('UTC', at))" if op.get_bind().dialect.name == 'postgresql'
           else 'date(at)')
    op.execute(
        'INSERT INTO consent_daily_counts (day, purpose, channel, action, shard, count) '  # noqa: S608 - `day` is constant
        f'SELECT {day}, purpose, channel, action, 0, count(*) FROM consent_events '
        f'GROUP BY {day}, purpose, channel, action')
    op.execute(
        'INSERT INTO consent_active_counts (purpose, channel, shard, count) '
        "SELECT purpose, channel, 0, count(*) FROM consent_states WHERE state = 'active' "
        'GROUP BY purpose, channel')
    op.execute(
        'INSERT INTO subject_counts (state, shard, count) '
        'SELECT state, 0, count(*) FROM subjects GROUP BY state')
    op.drop_index('ix_consent_events_at_action', table_name='consent_events')


def downgrade() -> None:
    op.create_index('ix_consent_events_at_action', 'consent_events', ['at', 'action'])
    op.drop_table('subject_counts')
    op.drop_table('consent_active_counts')
    op.drop_table('consent_daily_counts')
