"""backups: runs and verification outcomes

Revision ID: 0003_backups
Revises: 0001_foundation
Create Date: 2026-11-29 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0003_backups'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('backups',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('destination', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backups'))
    )
    op.create_table('backup_verifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('backup_id', sa.String(length=80), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_verifications'))
    )
    with op.batch_alter_table('backup_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_verifications_backup_id'), ['backup_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backup_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_verifications_backup_id'))
    op.drop_table('backup_verifications')
    op.drop_table('backups')
