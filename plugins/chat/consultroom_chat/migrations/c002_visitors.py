"""chat: the public chat widget's visitor conversations and the staff's duty switch

Revision ID: c002
Revises: c001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "c002"
down_revision = "c001"
branch_labels = None
depends_on = None


def upgrade():
    # The kind "visitor" and the author "visitor" need no change: both
    # columns are plain strings (non-native enums without a constraint).
    with op.batch_alter_table("chat_conversation") as batch:
        batch.add_column(sa.Column("visitor_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("visitor_email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("visitor_language", sa.String(length=5), nullable=True))
        batch.add_column(
            sa.Column("answer_by_mail", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "chat_duty",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("answering", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_chat_duty_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_chat_duty_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_chat_duty")),
    )
    op.create_index(op.f("ix_chat_duty_organisation_id"), "chat_duty", ["organisation_id"])


def downgrade():
    op.drop_table("chat_duty")
    with op.batch_alter_table("chat_conversation") as batch:
        batch.drop_column("answer_by_mail")
        batch.drop_column("visitor_language")
        batch.drop_column("visitor_email")
        batch.drop_column("visitor_name")
