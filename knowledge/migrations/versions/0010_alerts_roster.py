"""Admin part 2: early-warning alerts and the on-duty roster.

``alerts`` holds one row per episode of a rule (``open_key`` is set, and unique, only while
the episode is open); ``duty_status`` is the console's on/off-duty toggle per staff member;
``duty_shifts`` the weekly schedule (weekday, minutes after midnight Beijing time).

Revision ID: 0010_alerts_roster
Revises: 0009_admin_insight
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_alerts_roster"
down_revision = "0009_admin_insight"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("open_key", sa.String(100)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("cleared_at", TS),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.Integer),
        sa.Column("deliveries", sa.JSON, nullable=False),
        sa.UniqueConstraint("open_key", name="uq_alerts_open_key"),
    )
    op.create_index("ix_alerts_rule", "alerts", ["rule"])
    op.create_index("ix_alerts_started_at", "alerts", ["started_at"])
    op.create_table(
        "duty_status",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("on_duty", sa.Boolean, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("start_minute", sa.Integer, nullable=False),
        sa.Column("end_minute", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_duty_shifts_user_id", "duty_shifts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_duty_shifts_user_id", "duty_shifts")
    op.drop_table("duty_shifts")
    op.drop_table("duty_status")
    op.drop_index("ix_alerts_started_at", "alerts")
    op.drop_index("ix_alerts_rule", "alerts")
    op.drop_table("alerts")
