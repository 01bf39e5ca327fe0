"""Hit testing and tuning: hit-test history, the regression set, thresholds in the database.

Revision ID: 0008_tuning
Revises: 0007_inbound_decisions
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_tuning"
down_revision = "0007_inbound_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
