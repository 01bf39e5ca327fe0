"""Admin part 2: the dashboard figures and accounts (password reset, retention).

Revision ID: 0009_admin_insight
Revises: 0008_tuning
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009_admin_insight"
down_revision = "0008_tuning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
