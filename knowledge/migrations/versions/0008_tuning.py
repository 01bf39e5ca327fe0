"""Hit testing and tuning: hit-test history, the regression set, thresholds in the database.

Revision ID: 0008_tuning
Revises: 0007_inbound_decisions
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_tuning"
down_revision = "0007_inbound_decisions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tuning_hit_tests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("top_entry_id", sa.Integer),
        sa.Column("top_title", sa.String(500)),
        sa.Column("result", sa.JSON, nullable=False),
    )
    op.create_index("ix_tuning_hit_tests_at", "tuning_hit_tests", ["at"])
    op.create_table(
        "tuning_regression_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("expect", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.Integer),
        sa.Column("entry_title", sa.String(500)),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("hit_test_id", sa.Integer),
    )
    op.create_index("ix_tuning_regression_cases_entry_id", "tuning_regression_cases", ["entry_id"])
    op.create_table(
        "tuning_regression_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("kb_revision", sa.Integer, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_tuning_regression_runs_at", "tuning_regression_runs", ["at"])
    op.create_index("ix_tuning_regression_runs_kb_revision", "tuning_regression_runs", ["kb_revision"])
    op.create_table(
        "tuning_eval_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("questions", sa.Integer, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_index("ix_tuning_eval_runs_at", "tuning_eval_runs", ["at"])
    op.create_table(
        "tuning_thresholds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("answer", sa.Float, nullable=False),
        sa.Column("suggest", sa.Float, nullable=False),
        sa.Column("suggest_floor", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "tuning_threshold_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("old", sa.JSON, nullable=False),
        sa.Column("new", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_index("ix_tuning_threshold_changes_at", "tuning_threshold_changes", ["at"])


def downgrade() -> None:
    for table in ("tuning_threshold_changes", "tuning_thresholds", "tuning_eval_runs", "tuning_regression_runs",
                  "tuning_regression_cases", "tuning_hit_tests"):
        op.drop_table(table)
