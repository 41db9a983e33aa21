"""sharing: the copies register and the disclosure log

Revision ID: 0012_sharing
Revises: 0001_foundation
Create Date: 2026-11-30 13:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0012_sharing'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('copies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('what', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.String(length=300), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('destination', sa.String(length=300), nullable=False),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=80), nullable=True),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.Column('destroyed_at', UTCDateTime(), nullable=True),
    sa.Column('destroyed_by', sa.String(length=200), nullable=True),
    sa.Column('destroyed_note', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_copies'))
    )
    op.create_index('ix_copies_open', 'copies', ['destroyed_at', 'expires_at'])
    op.create_index('ix_copies_holder', 'copies', ['holder', 'issued_at'])
    op.create_table('disclosure_batches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.String(length=300), nullable=False),
    sa.Column('notice_versions', sa.String(length=300), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('copy_id', sa.String(length=36), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_batches'))
    )
    op.create_table('disclosures',
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['disclosure_batches.id'],
                            name=op.f('fk_disclosures_batch_id_disclosure_batches')),
    sa.PrimaryKeyConstraint('batch_id', 'subject_id', name=op.f('pk_disclosures'))
    )
    op.create_index('ix_disclosures_subject', 'disclosures', ['subject_id'])


def downgrade() -> None:
    op.drop_index('ix_disclosures_subject', table_name='disclosures')
    op.drop_table('disclosures')
    op.drop_table('disclosure_batches')
    op.drop_index('ix_copies_holder', table_name='copies')
    op.drop_index('ix_copies_open', table_name='copies')
    op.drop_table('copies')
