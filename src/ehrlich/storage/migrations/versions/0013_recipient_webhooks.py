"""sharing: recipients' webhook endpoints, webhook deliveries, recipient tasks for staff

Revision ID: 0013_recipient_webhooks
Revises: 0012_sharing
Create Date: 2026-11-30 16:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0013_recipient_webhooks'
down_revision: str | Sequence[str] | None = '0012_sharing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recipient_endpoints',
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_ct', sa.LargeBinary(), nullable=False),
    sa.Column('set_at', UTCDateTime(), nullable=False),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('recipient', name=op.f('pk_recipient_endpoints'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('message_id', sa.String(length=80), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('body_ct', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_result', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_try_at', UTCDateTime(), nullable=True),
    sa.Column('next_try_at', UTCDateTime(), nullable=True),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('message_id', name='uq_webhook_deliveries_message_id')
    )
    op.create_index('ix_webhook_deliveries_status', 'webhook_deliveries',
                    ['status', 'created_at'])
    op.create_index('ix_webhook_deliveries_reference', 'webhook_deliveries', ['reference'])
    op.create_index('ix_webhook_deliveries_recipient', 'webhook_deliveries',
                    ['recipient', 'created_at'])
    op.create_table('recipient_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('done_at', UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipient_tasks')),
    sa.UniqueConstraint('recipient', 'event', 'reference', name='uq_recipient_tasks_what')
    )
    op.create_index('ix_recipient_tasks_open', 'recipient_tasks', ['done_at', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_recipient_tasks_open', table_name='recipient_tasks')
    op.drop_table('recipient_tasks')
    op.drop_index('ix_webhook_deliveries_recipient', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_reference', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_status', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('recipient_endpoints')
