"""Staff accounts (lawyers, admins) and their web login sessions.

Revision ID: 0003_accounts
Revises: 0002_channel
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_accounts"
down_revision = "0002_channel"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        # SHA-256 of the cookie's token: a leaked table does not yield usable cookies.
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False, index=True),
        sa.Column("last_seen_at", TS, nullable=False),
        # One message for the next page (POST, redirect, GET): {"kind", "text"}.
        sa.Column("flash", sa.JSON),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("users")
