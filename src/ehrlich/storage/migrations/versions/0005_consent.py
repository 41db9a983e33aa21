"""consent: events, current state, suppressions

Revision ID: 0005_consent
Revises: 0001_foundation
Create Date: 2026-11-29 09:57:07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0005_consent'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('suppressions',
    sa.Column('email_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('email_index', 'purpose', name=op.f('pk_suppressions'))
    )
    op.create_table('consent_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('legal_basis', sa.String(length=32), nullable=False),
    sa.Column('notice_version', sa.Integer(), nullable=True),
    sa.Column('notice_hash', sa.String(length=100), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('text_shown', sa.Text(), nullable=True),
    sa.Column('text_hash', sa.String(length=64), nullable=True),
    sa.Column('form', sa.String(length=500), nullable=True),
    sa.Column('default_state', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('ip_network', sa.String(length=64), nullable=True),
    sa.Column('user_agent_hash', sa.String(length=64), nullable=True),
    sa.Column('sec_gpc', sa.String(length=16), nullable=True),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('prev_event_id', sa.String(length=36), nullable=True),
    sa.Column('prev_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_consent_events_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index('ix_consent_events_subject', ['subject_id', 'purpose', 'channel', 'at'], unique=False)

    op.create_table('consent_states',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('since', UTCDateTime(), nullable=False),
    sa.Column('notice_version', sa.Integer(), nullable=True),
    sa.Column('last_event_id', sa.String(length=36), nullable=True),
    sa.Column('last_event_hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_consent_states_subject_id_subjects')),
    sa.PrimaryKeyConstraint('subject_id', 'purpose', 'channel', name=op.f('pk_consent_states'))
    )
    with op.batch_alter_table('consent_states', schema=None) as batch_op:
        batch_op.create_index('ix_consent_states_audience', ['purpose', 'channel', 'state', 'subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consent_states', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_states_audience')

    op.drop_table('consent_states')
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_events_subject')

    op.drop_table('consent_events')
    op.drop_table('suppressions')
