"""keycard: one-time login codes

Revision ID: k001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "k001"
down_revision = None
branch_labels = ("keycard",)
depends_on = "0001"  # the core's organisation and user_account tables


def upgrade():
    op.create_table(
        "keycard_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_keycard_code_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_keycard_code_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keycard_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_keycard_code_code_hash")),
    )
    op.create_index(
        op.f("ix_keycard_code_organisation_id"), "keycard_code", ["organisation_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_keycard_code_organisation_id"), table_name="keycard_code")
    op.drop_table("keycard_code")
