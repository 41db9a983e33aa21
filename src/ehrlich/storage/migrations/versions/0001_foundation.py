"""foundation: subjects, data keys, audit chain, api tokens

Revision ID: 0001_foundation
Revises: (none)
Create Date: 2026-11-29 09:33:31.562758
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0001_foundation'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens'))
    )
    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_target'), ['target'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    head = sa.table('audit_head', sa.column('id', sa.Integer()), sa.column('seq', sa.BigInteger()),
                    sa.column('hash', sa.LargeBinary()))
    op.bulk_insert(head, [{'id': 1, 'seq': 0, 'hash': bytes(32)}])  # the chain's genesis
    op.create_table('instance_meta',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_instance_meta'))
    )
    op.create_table('subjects',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('obtained_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('erased_at', UTCDateTime(), nullable=True),
    sa.Column('email_index', sa.LargeBinary(length=32), nullable=True),
    sa.Column('phone_index', sa.LargeBinary(length=32), nullable=True),
    sa.Column('email_ct', sa.LargeBinary(), nullable=True),
    sa.Column('name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('phone_ct', sa.LargeBinary(), nullable=True),
    sa.Column('attributes_ct', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('email_index', name=op.f('uq_subjects_email_index'))
    )
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.create_index('ix_subjects_phone_index', ['phone_index'], unique=False)

    op.create_table('data_keys',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('kek_version', sa.Integer(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_data_keys_subject_id_subjects')),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_data_keys'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_keys_kek_version'), ['kek_version'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_keys_kek_version'))

    op.drop_table('data_keys')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index('ix_subjects_phone_index')

    op.drop_table('subjects')
    op.drop_table('instance_meta')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_target'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))

    op.drop_table('audit_entries')
    op.drop_table('api_tokens')
