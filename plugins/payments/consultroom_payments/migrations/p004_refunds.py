"""payments: refunds

Revision ID: p004
Revises: p003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p004"
down_revision = "p003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payments_refund",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisation.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "payment_id",
            sa.Integer(),
            sa.ForeignKey("payments_payment.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("provider_ref", sa.String(200), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("payments_refund")
