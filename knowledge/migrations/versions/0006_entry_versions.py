"""Entry versions: every change to a knowledge-base entry is kept as a full snapshot.

Existing entries get their current content as version 1 (action ``baseline``), so that
every entry has a history to diff against and restore from.

Revision ID: 0006_entry_versions
Revises: 0005_inbound_create_time_bigint
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_entry_versions"
down_revision = "0005_inbound_create_time_bigint"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# The content fields of a snapshot at the time of this migration (EntryData without status).
CONTENT = ("kind", "external_id", "category", "title", "question", "answer", "alt_questions",
           "facts", "judgment", "reasoning", "law", "article_no", "text", "version", "citations",
           "tags", "region", "source")
BATCH = 1000


def _type(name: str) -> sa.types.TypeEngine:
    if name in ("alt_questions", "citations", "tags"):
        return sa.JSON()
    return sa.Integer() if name == "article_no" else sa.Text()


def upgrade() -> None:
    op.add_column("kb_entries", sa.Column("current_version", sa.Integer, nullable=False,
                                          server_default="0"))
    versions = op.create_table(
        "kb_entry_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("kb_entries.id"), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),
    )
    entries = sa.table("kb_entries", sa.column("id", sa.Integer), sa.column("status", sa.String),
                       sa.column("updated_at", TS), sa.column("current_version", sa.Integer),
                       *(sa.column(name, _type(name)) for name in CONTENT))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.select(entries).where(entries.c.id > last)
                            .order_by(entries.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        conn.execute(versions.insert(), [
            {"entry_id": r["id"], "version": 1, "status": r["status"], "action": "baseline",
             "author": "migration", "reason": "", "created_at": r["updated_at"],
             "content": {name: r[name] for name in CONTENT}} for r in rows])
        last = rows[-1]["id"]
    conn.execute(entries.update().values(current_version=1))


def downgrade() -> None:
    op.drop_table("kb_entry_versions")
    with op.batch_alter_table("kb_entries") as batch:
        batch.drop_column("current_version")
