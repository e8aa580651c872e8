"""hello: visit table

Revision ID: h001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "h001"
down_revision = None
branch_labels = ("hello",)
depends_on = "0001"  # the core's organisation table


def upgrade():
    op.create_table(
        "hello_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_hello_visit_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_visit")),
    )


def downgrade():
    op.drop_table("hello_visit")
