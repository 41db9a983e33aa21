"""sharing: processor syncs, what each processor holds, and their runs

Revision ID: 0013_processor_sync
Revises: 0012_sharing
Create Date: 2026-11-30 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0013_processor_sync'
down_revision: str | Sequence[str] | None = '0012_sharing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processor_syncs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('sftp_host', sa.String(length=255), nullable=False),
    sa.Column('sftp_port', sa.Integer(), nullable=False),
    sa.Column('sftp_user', sa.String(length=64), nullable=False),
    sa.Column('sftp_path', sa.String(length=500), nullable=False),
    sa.Column('sftp_key', sa.String(length=500), nullable=False),
    sa.Column('sftp_known_hosts', sa.String(length=500), nullable=False),
    sa.Column('schedule', sa.String(length=16), nullable=False),
    sa.Column('fields', sa.String(length=300), nullable=False),
    sa.Column('next_run_at', UTCDateTime(), nullable=True),
    sa.Column('last_success_at', UTCDateTime(), nullable=True),
    sa.Column('running_since', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_syncs'))
    )
    op.create_index('ux_processor_syncs', 'processor_syncs', ['recipient', 'purpose'],
                    unique=True)
    op.create_table('processor_members',
    sa.Column('sync_id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['sync_id'], ['processor_syncs.id'],
                            name=op.f('fk_processor_members_sync_id_processor_syncs')),
    sa.PrimaryKeyConstraint('sync_id', 'subject_id', name=op.f('pk_processor_members'))
    )
    op.create_index('ix_processor_members_subject', 'processor_members', ['subject_id'])
    op.create_table('processor_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sync_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=36), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['sync_id'], ['processor_syncs.id'],
                            name=op.f('fk_processor_runs_sync_id_processor_syncs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processor_runs'))
    )
    op.create_index('ix_processor_runs_sync', 'processor_runs', ['sync_id', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_processor_runs_sync', table_name='processor_runs')
    op.drop_table('processor_runs')
    op.drop_index('ix_processor_members_subject', table_name='processor_members')
    op.drop_table('processor_members')
    op.drop_index('ux_processor_syncs', table_name='processor_syncs')
    op.drop_table('processor_syncs')
