"""payments: the rates of the booking and walk-in widgets

Revision ID: p005
Revises: p004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p005"
down_revision = "p004"
branch_labels = None
depends_on = None

COLUMNS = ("booking_rate_id", "walk_in_rate_id")


def upgrade():
    with op.batch_alter_table("payments_settings") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch.create_foreign_key(
                f"fk_payments_settings_{name}_payments_rate",
                "payments_rate",
                [name],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade():
    with op.batch_alter_table("payments_settings") as batch:
        for name in COLUMNS:
            batch.drop_constraint(f"fk_payments_settings_{name}_payments_rate", type_="foreignkey")
            batch.drop_column(name)
