"""subjects: who was in each batch of a file recorded under a batch reference

Revision ID: 0014_subject_read_lists
Revises: 0008_contacts
Create Date: 2026-11-30 20:15:00

An audience pulled over the API wrote one audit entry per 1,000 people naming each of
them (about 40 MB of audit per million people). Such a batch's entry now names a list
in this table and the SHA-256 of its ids; the list holds the ids, compressed.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0014_subject_read_lists'
down_revision: str | Sequence[str] | None = '0008_contacts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('subject_read_lists',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=80), nullable=False),
    sa.Column('members', sa.LargeBinary(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_read_lists'))
    )
    op.create_index('ix_subject_read_lists_reference', 'subject_read_lists', ['reference'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_subject_read_lists_reference', table_name='subject_read_lists')
    op.drop_table('subject_read_lists')
