"""What the assistant decided for each inbound message, kept with it.

Every automatic answer records the entry id and version it came from (a reply a resident
received can be traced to the exact text), and the statistics keep the decision, reason,
confidence and category even after the message text is purged.

Revision ID: 0007_inbound_decisions
Revises: 0006_entry_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_inbound_decisions"
down_revision = "0006_entry_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wx_inbound") as batch:
        batch.add_column(sa.Column("decision", sa.String(16)))
        batch.add_column(sa.Column("reason", sa.String(64)))
        batch.add_column(sa.Column("confidence", sa.Float))
        batch.add_column(sa.Column("entry_id", sa.Integer))
        batch.add_column(sa.Column("entry_version", sa.Integer))
        batch.add_column(sa.Column("category", sa.String(32)))
        batch.add_column(sa.Column("ticket_no", sa.String(32)))
    op.create_index("ix_wx_inbound_decision", "wx_inbound", ["decision"])


def downgrade() -> None:
    op.drop_index("ix_wx_inbound_decision", "wx_inbound")
    with op.batch_alter_table("wx_inbound") as batch:
        for name in ("ticket_no", "category", "entry_version", "entry_id", "confidence", "reason",
                     "decision"):
            batch.drop_column(name)
