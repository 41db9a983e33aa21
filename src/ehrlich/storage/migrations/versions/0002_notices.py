"""notices: published notice versions

Revision ID: 0002_notices
Revises: 0001_foundation
Create Date: 2026-11-29 09:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0002_notices'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice_versions',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('canonical', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('published_at', UTCDateTime(), nullable=False),
    sa.Column('publisher', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_notice_versions'))
    )
    with op.batch_alter_table('notice_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_versions_sha256'), ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_versions_sha256'))
    op.drop_table('notice_versions')
