"""staff: initial (generated) passwords expire

Revision ID: 0006_initial_password_expiry
Revises: 0004_staff
Create Date: 2026-11-29 13:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ehrlich.storage.base import UTCDateTime

revision: str = '0006_initial_password_expiry'
down_revision: str | Sequence[str] | None = '0004_staff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('initial_password_expires_at', UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('initial_password_expires_at')
