"""rights: the data-request queue

Revision ID: 0012_rights
Revises: 0001_foundation
Create Date: 2026-11-30 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0012_rights'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('data_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=True),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('identity_check', sa.String(length=32), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('extended_to', UTCDateTime(), nullable=True),
    sa.Column('extension_reason', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=1000), nullable=True),
    sa.Column('note_id', sa.String(length=36), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('closed_at', UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.Column('reminded_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_requests'))
    )
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.create_index('ix_data_requests_open', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_data_requests_subject', ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_data_requests_subject')
        batch_op.drop_index('ix_data_requests_open')
    op.drop_table('data_requests')
