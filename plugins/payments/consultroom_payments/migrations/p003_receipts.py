"""payments: receipts and their numbering

Revision ID: p003
Revises: p002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p003"
down_revision = "p002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payments_receipt_counter",
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisation.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )
    op.create_table(
        "payments_receipt",
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
            unique=True,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("organisation_id", "number"),
    )


def downgrade():
    op.drop_table("payments_receipt")
    op.drop_table("payments_receipt_counter")
