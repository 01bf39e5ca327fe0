"""Pending edits: a change to a published entry waits for review while the entry stays published.

``kb_entries.pending_version`` names the newest snapshot of the entry's pending edit (null:
none); ``kb_entry_versions.pending`` marks the snapshots of pending edits, which are not the
entry's text (``knowledge.pending``).  Existing rows: no pending edits.  A downgrade drops the
edits still waiting.

Revision ID: 0012_pending_edits
Revises: 0011_feedback_learning
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_pending_edits"
down_revision = "0011_feedback_learning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_entries") as batch:
        batch.add_column(sa.Column("pending_version", sa.Integer))
    with op.batch_alter_table("kb_entry_versions") as batch:
        batch.add_column(sa.Column("pending", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # The old schema cannot hold an edit that is still waiting (its snapshots are numbered
    # after the entry's current version, which the old code counts on): drop those; snapshots
    # of edits already published or discarded stay, as ordinary versions.
    op.get_bind().execute(sa.text(
        "DELETE FROM kb_entry_versions WHERE pending = :yes AND version > (SELECT e.current_version"
        " FROM kb_entries e WHERE e.id = kb_entry_versions.entry_id)").bindparams(yes=True))
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of kb_entries would have to
    # drop the table that kb_entry_versions refers to, which SQLite's foreign keys refuse.
    op.drop_column("kb_entry_versions", "pending")
    op.drop_column("kb_entries", "pending_version")
