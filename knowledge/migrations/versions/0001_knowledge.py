"""Knowledge base entries and revision counter.

Revision ID: 0001_knowledge
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_knowledge"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("external_id", sa.String(255)),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("question", sa.Text),
        sa.Column("answer", sa.Text),
        sa.Column("alt_questions", sa.JSON, nullable=False),
        sa.Column("facts", sa.Text),
        sa.Column("judgment", sa.Text),
        sa.Column("reasoning", sa.Text),
        sa.Column("law", sa.String(200)),
        sa.Column("article_no", sa.Integer),
        sa.Column("text", sa.Text),
        sa.Column("version", sa.String(64)),
        sa.Column("category", sa.String(32), nullable=False, index=True),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("region", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("source", sa.String(500)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "external_id", name="uq_kb_entries_kind_external"),
    )
    op.create_table(
        "kb_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO kb_state (id, revision) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("kb_state")
    op.drop_table("kb_entries")
