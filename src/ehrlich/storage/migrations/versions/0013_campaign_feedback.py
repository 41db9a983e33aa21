"""campaigns: bounces and complaints reported after sending, why a campaign paused, and
the generations of the webhook secret made in the console

Revision ID: 0013_campaign_feedback
Revises: 0012_campaigns
Create Date: 2026-11-30 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0013_campaign_feedback'
down_revision: str | Sequence[str] | None = '0012_campaigns'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign_feedback',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                            name=op.f('fk_campaign_feedback_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', 'subject_id', 'kind',
                            name=op.f('pk_campaign_feedback'))
    )
    op.create_table('campaign_webhook_keys',
    sa.Column('generation', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('generation', name=op.f('pk_campaign_webhook_keys'))
    )
    op.create_index('ix_campaign_sends_message_id', 'campaign_sends', ['message_id'],
                    unique=False)
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('paused_reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('paused_reason')
    op.drop_index('ix_campaign_sends_message_id', table_name='campaign_sends')
    op.drop_table('campaign_webhook_keys')
    op.drop_table('campaign_feedback')
