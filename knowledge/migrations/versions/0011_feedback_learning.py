"""Admin part 2: feedback reasons, review tasks for disliked entries, unanswered groups.

Revision ID: 0011_feedback_learning
Revises: 0010_alerts_roster
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_feedback_learning"
down_revision = "0010_alerts_roster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
