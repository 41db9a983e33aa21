"""sharing: how many rectified people a processor sync's run sent again

Revision ID: 0015_processor_run_changed
Revises: 0013_processor_sync
Create Date: 2026-12-02 22:00:00

A run sends the people the processor holds whose record was rectified since the last
successful run again (GDPR Art. 16, 19). The count was written to the audit entry only;
the sync's page shows it beside the people added and removed.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_processor_run_changed'
down_revision: str | Sequence[str] | None = '0013_processor_sync'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('processor_runs') as batch:
        batch.add_column(sa.Column('changed', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('processor_runs') as batch:
        batch.drop_column('changed')
