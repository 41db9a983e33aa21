"""contacts: listing indexes on subjects, staff notes sealed under the person's key

Revision ID: 0008_contacts
Revises: 0001_foundation
Create Date: 2026-11-30 11:00:00

The console lists contacts newest first, one page at a time after the last row
shown (keyset), so each page is one index range: (created_at, id), and
(source, created_at, id) for the source filter.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0008_contacts'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.create_index('ix_subjects_listing', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_subjects_source_listing', ['source', 'created_at', 'id'],
                              unique=False)
    op.create_table('subject_notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('body_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'],
                            name=op.f('fk_subject_notes_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_notes'))
    )
    with op.batch_alter_table('subject_notes', schema=None) as batch_op:
        batch_op.create_index('ix_subject_notes_subject', ['subject_id', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subject_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_subject_notes_subject')
    op.drop_table('subject_notes')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index('ix_subjects_source_listing')
        batch_op.drop_index('ix_subjects_listing')
