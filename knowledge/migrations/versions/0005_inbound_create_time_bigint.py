"""WeChat's CreateTime in a 64-bit column: from 2038 on it no longer fits 32 bits.

On PostgreSQL the column was a 32-bit INTEGER.  SQLite's INTEGER already holds 64 bits:
nothing changes there (and no table is rebuilt for nothing).

Revision ID: 0005_inbound_create_time_bigint
Revises: 0004_lawyer_queue
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_inbound_create_time_bigint"
down_revision = "0004_lawyer_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("wx_inbound", "wx_create_time", type_=sa.BigInteger,
                    existing_type=sa.Integer, existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("wx_inbound", "wx_create_time", type_=sa.Integer,
                    existing_type=sa.BigInteger, existing_nullable=False)
