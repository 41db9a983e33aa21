"""api tokens: when each was last used

Revision ID: 0011_api_token_last_used
Revises: 0006_initial_password_expiry
Create Date: 2026-11-30 11:30:00

Shown on the console's API tokens page; written at most once a minute per token.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0011_api_token_last_used'
down_revision: str | Sequence[str] | None = '0006_initial_password_expiry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
