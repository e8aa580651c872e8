"""payments: charges (paid appointments) and payments

Revision ID: p002
Revises: p001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p002"
down_revision = "p001"
branch_labels = None
depends_on = None


def _organisation():
    return sa.Column(
        "organisation_id",
        sa.Integer(),
        sa.ForeignKey("organisation.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _money(name):
    return sa.Column(name, sa.String(40), nullable=False)


def upgrade():
    op.create_table(
        "payments_charge",
        sa.Column(
            "appointment_id",
            sa.Integer(),
            sa.ForeignKey("appointment.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _organisation(),
        sa.Column(
            "rate_id", sa.Integer(), sa.ForeignKey("payments_rate.id"), nullable=False, index=True
        ),
    )
    op.create_table(
        "payments_payment",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        sa.Column(
            "appointment_id",
            sa.Integer(),
            sa.ForeignKey("appointment.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("attempt", sa.String(64), nullable=False, unique=True),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("provider_ref", sa.String(200), nullable=True),
        sa.Column("checkout_url", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("rate_name", sa.String(100), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("net"),
        _money("vat"),
        _money("gross"),
        _money("vat_rate"),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
        _money("refunded"),
        sa.Column("payer_name", sa.String(200), nullable=False),
        sa.Column("payer_email", sa.String(254), nullable=False),
        sa.Column("payer_country", sa.String(2), nullable=False),
        sa.Column("payer_business", sa.Boolean(), nullable=False),
        sa.Column("payer_vat_number", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("provider", "provider_ref"),
    )


def downgrade():
    op.drop_table("payments_payment")
    op.drop_table("payments_charge")
