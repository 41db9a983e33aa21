"""audit: on SQLite the sequence number becomes the rowid

Revision ID: 0007_audit_rowid
Revises: 0001_foundation
Create Date: 2026-11-29 14:00:00

A BIGINT primary key is not SQLite's rowid, so every audit entry was written
twice, to the table and to an index of its sequence numbers. As INTEGER the
sequence number is the rowid itself. The table is rebuilt once; PostgreSQL is
left as it is.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_audit_rowid'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seq_type(new: sa.types.TypeEngine[int], old: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table('audit_entries', schema=None, recreate='always') as batch_op:
        batch_op.alter_column('seq', type_=new, existing_type=old, existing_nullable=False,
                              autoincrement=False)


def upgrade() -> None:
    _seq_type(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _seq_type(sa.BigInteger(), sa.Integer())
