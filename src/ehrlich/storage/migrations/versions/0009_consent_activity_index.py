"""consent: an index on event time and action for the overview's daily counts

Revision ID: 0009_consent_activity_index
Revises: 0005_consent
Create Date: 2026-11-30 11:40:00

The overview counts signups, confirmations and withdrawals per day over the last
90 days in one grouped query; with (at, action) that is a range scan of the
index alone, whatever the size of the ledger before the window.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009_consent_activity_index'
down_revision: str | Sequence[str] | None = '0005_consent'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_consent_events_at_action', 'consent_events', ['at', 'action'])


def downgrade() -> None:
    op.drop_index('ix_consent_events_at_action', table_name='consent_events')
