"""payments: settings, rates, VAT rules and provider accounts

Revision ID: p001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p001"
down_revision = None
branch_labels = ("payments",)
depends_on = "0006"  # the core's organisation, client and appointment tables


def _organisation(primary_key=False):
    return sa.Column(
        "organisation_id",
        sa.Integer(),
        sa.ForeignKey("organisation.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        index=not primary_key,
    )


def upgrade():
    op.create_table(
        "payments_settings",
        _organisation(primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("vat_number", sa.String(20), nullable=False),
        sa.Column("prices_include_vat", sa.Boolean(), nullable=False),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "payments_rate",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "payments_vat_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.UniqueConstraint("organisation_id", "country", "kind"),
    )
    op.create_table(
        "payments_provider_account",
        _organisation(primary_key=True),
        sa.Column("provider", sa.String(50), primary_key=True),
        sa.Column("config", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("payments_provider_account")
    op.drop_table("payments_vat_rule")
    op.drop_table("payments_rate")
    op.drop_table("payments_settings")
