"""notices: the console's draft and the public branding

Revision ID: 0008_notice_console
Revises: 0002_notices
Create Date: 2026-11-30 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0008_notice_console'
down_revision: str | Sequence[str] | None = '0002_notices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice_drafts',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('saved_at', UTCDateTime(), nullable=False),
    sa.Column('saved_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_drafts'))
    )
    op.create_table('branding',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=300), nullable=False),
    sa.Column('accent', sa.String(length=7), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=20), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branding'))
    )


def downgrade() -> None:
    op.drop_table('branding')
    op.drop_table('notice_drafts')
