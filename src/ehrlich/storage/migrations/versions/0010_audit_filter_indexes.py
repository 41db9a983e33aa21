"""audit: indexes for the console's filters by actor and by action

Revision ID: 0010_audit_filter_indexes
Revises: 0007_audit_rowid
Create Date: 2026-11-30 11:30:00

The audit page lists entries of one actor or one action, newest first, a page at
a time (keyset on the sequence number); each index serves one filter in order.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010_audit_filter_indexes'
down_revision: str | Sequence[str] | None = '0007_audit_rowid'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_actor_seq', 'audit_entries', ['actor', 'seq'])
    op.create_index('ix_audit_entries_action_seq', 'audit_entries', ['action', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_audit_entries_action_seq', table_name='audit_entries')
    op.drop_index('ix_audit_entries_actor_seq', table_name='audit_entries')
