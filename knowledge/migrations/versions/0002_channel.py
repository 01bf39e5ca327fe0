"""WeChat channel: inbound log, outbox, access token, conversations, ratings, tickets.

Revision ID: 0002_channel
Revises: 0001_knowledge
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_channel"
down_revision = "0001_knowledge"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wx_inbound",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False, index=True),
        sa.Column("msg_type", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64)),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("wx_create_time", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("lease_until", TS),
        sa.Column("received_at", TS, nullable=False, index=True),
        sa.Column("answered_at", TS),
        sa.UniqueConstraint("dedupe_key", name="uq_wx_inbound_dedupe_key"),
    )
    op.create_table(
        "wx_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False, index=True),
        sa.Column("inbound_id", sa.Integer),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False, index=True),
        sa.Column("lease_until", TS),
        sa.Column("last_errcode", sa.Integer),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("inbound_id", "part", name="uq_wx_outbox_inbound_part"),
    )
    op.create_table(
        "wx_access_tokens",
        sa.Column("app_id", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(1024)),
        sa.Column("expires_at", TS),
        sa.Column("refresh_at", TS),
        sa.Column("lock_owner", sa.String(64)),
        sa.Column("lock_until", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "wx_conversations",
        sa.Column("openid", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("suggestions", sa.JSON, nullable=False),
        sa.Column("last_topic", sa.Text),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("last_entry_id", sa.Integer),
        sa.Column("subscribed", sa.Boolean, nullable=False),
        sa.Column("unsubscribed_at", TS),
        sa.Column("rate_notice_at", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "wx_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False, index=True),
        sa.Column("entry_id", sa.Integer, index=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("inbound_id", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "wx_tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_no", sa.String(32), unique=True),
        sa.Column("openid", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("priority", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS),
    )
    op.create_table(
        "wx_ticket_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("wx_tickets.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("inbound_id", sa.Integer),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("wx_ticket_messages", "wx_tickets", "wx_ratings", "wx_conversations",
                  "wx_access_tokens", "wx_outbox", "wx_inbound"):
        op.drop_table(table)
