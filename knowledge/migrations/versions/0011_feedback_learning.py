"""Admin part 2: feedback reasons, review tasks for disliked entries, unanswered groups.

A dislike's reason and the question the rated answer was for are kept on the rating
(``wx_ratings.reason``, ``question_inbound_id``; the conversation remembers that question
in ``wx_conversations.question_inbound_id``).  ``learn_review_tasks`` holds one row per
episode of dislikes of an entry (``open_entry_id`` is set, and unique, only while the task is
open); ``learn_drafts`` the drafts written from a group of unanswered questions.

Revision ID: 0011_feedback_learning
Revises: 0010_alerts_roster
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_feedback_learning"
down_revision = "0010_alerts_roster"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("wx_ratings") as batch:
        batch.add_column(sa.Column("reason", sa.String(16)))
        batch.add_column(sa.Column("question_inbound_id", sa.Integer))
    with op.batch_alter_table("wx_conversations") as batch:
        batch.add_column(sa.Column("question_inbound_id", sa.Integer))
    op.create_table(
        "learn_review_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("open_entry_id", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dislikes", sa.Integer, nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("last_dislike_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("closed_by", sa.Integer),
        sa.Column("note", sa.String(500)),
        sa.UniqueConstraint("open_entry_id", name="uq_learn_review_tasks_open_entry_id"),
    )
    op.create_index("ix_learn_review_tasks_entry_id", "learn_review_tasks", ["entry_id"])
    op.create_index("ix_learn_review_tasks_status", "learn_review_tasks", ["status"])
    op.create_table(
        "learn_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("inbound_ids", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_learn_drafts_entry_id", "learn_drafts", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_learn_drafts_entry_id", "learn_drafts")
    op.drop_table("learn_drafts")
    op.drop_index("ix_learn_review_tasks_status", "learn_review_tasks")
    op.drop_index("ix_learn_review_tasks_entry_id", "learn_review_tasks")
    op.drop_table("learn_review_tasks")
    with op.batch_alter_table("wx_conversations") as batch:
        batch.drop_column("question_inbound_id")
    with op.batch_alter_table("wx_ratings") as batch:
        batch.drop_column("question_inbound_id")
        batch.drop_column("reason")
