"""Admin part 2: accounts administered from the console (password reset, audit).

``users.must_change_password`` is set when an admin resets a password (the user chooses a
new one at the next login); ``staff_audit`` records who created, edited, disabled,
unlocked or reset which account.  The dashboard and the retention purge need no schema of
their own: they read and clear what 0002-0007 already store.

Revision ID: 0009_admin_insight
Revises: 0008_tuning
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_admin_insight"
down_revision = "0008_tuning"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("actor_id", sa.Integer, index=True),  # None: the system
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target_id", sa.Integer, index=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_audit")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
