"""Admin part 2: early-warning alerts and the on-duty roster.

Revision ID: 0010_alerts_roster
Revises: 0009_admin_insight
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010_alerts_roster"
down_revision = "0009_admin_insight"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
