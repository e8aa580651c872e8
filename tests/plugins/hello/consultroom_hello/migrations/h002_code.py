"""hello: an appointment's hello code (the appointment form field)

Revision ID: h002
Revises: h001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "h002"
down_revision = "h001"
branch_labels = None
depends_on = "0002"  # the core's appointment table


def upgrade():
    op.create_table(
        "hello_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_hello_code_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_hello_code_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_code")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_hello_code_appointment_id")),
    )


def downgrade():
    op.drop_table("hello_code")
