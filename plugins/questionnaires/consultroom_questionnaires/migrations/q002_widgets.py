"""questionnaires: given to clients who book or walk in through the widgets

Revision ID: q002
Revises: q001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "q002"
down_revision = "q001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("questionnaires_questionnaire") as batch:
        batch.add_column(
            sa.Column("for_booking", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("for_walk_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("questionnaires_questionnaire") as batch:
        batch.drop_column("for_walk_in")
        batch.drop_column("for_booking")
