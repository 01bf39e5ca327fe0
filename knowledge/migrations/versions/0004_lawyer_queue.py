"""Lawyer queue: ticket lifecycle and ownership, deadlines, ratings, audit log, reply delivery.

Existing "open" tickets become "waiting" (nobody has claimed them) and get the default
deadline for their priority counted from their creation.

Revision ID: 0004_lawyer_queue
Revises: 0003_accounts
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004_lawyer_queue"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# The defaults of knowledge.settings at the time of this migration (a migration must not
# change meaning when the settings change later).
DEFAULT_DEADLINES = {"emergency": timedelta(minutes=30), "normal": timedelta(hours=24)}
TICKET_COLUMNS = (
    ("category", sa.String(32)), ("region", sa.String(64)), ("deadline_at", TS),
    ("claimed_by", sa.Integer), ("claimed_at", TS), ("first_response_at", TS),
    ("answered_at", TS), ("overdue_alerted_at", TS), ("rating", sa.Integer),
    ("rated_at", TS), ("kb_entry_id", sa.Integer),
)
TICKET_INDEXES = ("category", "deadline_at", "claimed_by")


def upgrade() -> None:
    for name, type_ in TICKET_COLUMNS:
        op.add_column("wx_tickets", sa.Column(name, type_, nullable=True))
    for name in TICKET_INDEXES:
        op.create_index(f"ix_wx_tickets_{name}", "wx_tickets", [name])
    # Who wrote a lawyer reply (users.id; no foreign key: accounts are disabled, not deleted).
    op.add_column("wx_ticket_messages", sa.Column("author_id", sa.Integer, nullable=True))
    # A lawyer reply's outbox rows point back at it, so the ticket shows its delivery state.
    op.add_column("wx_outbox", sa.Column("ticket_message_id", sa.Integer, nullable=True))
    op.create_index("ix_wx_outbox_ticket_message_id", "wx_outbox", ["ticket_message_id"])
    # The ticket whose lawyer answer the resident's next "5"/"1" rates.
    op.add_column("wx_conversations", sa.Column("rating_ticket_id", sa.Integer, nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("actor_id", sa.Integer, index=True),  # None: the system (sweeper)
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("ticket_id", sa.Integer, index=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )

    conn = op.get_bind()
    tickets = sa.table("wx_tickets", sa.column("id", sa.Integer), sa.column("status", sa.String),
                       sa.column("priority", sa.String), sa.column("created_at", TS),
                       sa.column("deadline_at", TS))
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.priority, tickets.c.created_at)
                        .where(tickets.c.status == "open")).all()
    for row in rows:
        deadline = row.created_at + DEFAULT_DEADLINES.get(row.priority,
                                                          DEFAULT_DEADLINES["normal"])
        conn.execute(sa.update(tickets).where(tickets.c.id == row.id)
                     .values(status="waiting", deadline_at=deadline))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE wx_tickets SET status = 'open' WHERE status IN "
                         "('waiting', 'claimed', 'answered', 'transferred', 'reopened')"))
    conn.execute(sa.text("UPDATE wx_tickets SET status = 'closed' WHERE status = 'expired'"))
    op.drop_table("audit_log")
    with op.batch_alter_table("wx_conversations") as batch:
        batch.drop_column("rating_ticket_id")
    op.drop_index("ix_wx_outbox_ticket_message_id", "wx_outbox")
    with op.batch_alter_table("wx_outbox") as batch:
        batch.drop_column("ticket_message_id")
    with op.batch_alter_table("wx_ticket_messages") as batch:
        batch.drop_column("author_id")
    for name in TICKET_INDEXES:
        op.drop_index(f"ix_wx_tickets_{name}", "wx_tickets")
    with op.batch_alter_table("wx_tickets") as batch:
        for name, _ in reversed(TICKET_COLUMNS):
            batch.drop_column(name)
