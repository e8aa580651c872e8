"""chat: conversations, messages and read marks

Revision ID: c001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "c001"
down_revision = None
branch_labels = ("chat",)
depends_on = "0006"  # the core's client, appointment and room tables


def upgrade():
    op.create_table(
        "chat_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.String(length=43), nullable=True),
        sa.Column("client_may_write", sa.Boolean(), nullable=False),
        sa.Column("client_read_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_chat_conversation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_chat_conversation_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_chat_conversation_department_id_department"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_chat_conversation_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
            name=op.f("fk_chat_conversation_room_id_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversation")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_chat_conversation_appointment_id")),
        sa.UniqueConstraint("room_id", name=op.f("uq_chat_conversation_room_id")),
    )
    op.create_index(
        "ix_chat_conversation_client", "chat_conversation", ["client_id", "department_id"]
    )
    op.create_index(
        op.f("ix_chat_conversation_organisation_id"), "chat_conversation", ["organisation_id"]
    )
    op.create_index(
        op.f("ix_chat_conversation_department_id"), "chat_conversation", ["department_id"]
    )
    op.create_table(
        "chat_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=10), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_chat_message_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversation.id"],
            name=op.f("fk_chat_message_conversation_id_chat_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["user_account.id"],
            name=op.f("fk_chat_message_author_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_message")),
    )
    op.create_index("ix_chat_message_conversation", "chat_message", ["conversation_id", "id"])
    op.create_index(op.f("ix_chat_message_organisation_id"), "chat_message", ["organisation_id"])
    op.create_index(op.f("ix_chat_message_at"), "chat_message", ["at"])
    op.create_table(
        "chat_read",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversation.id"],
            name=op.f("fk_chat_read_conversation_id_chat_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_chat_read_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "user_id", name=op.f("pk_chat_read")),
    )


def downgrade():
    op.drop_table("chat_read")
    op.drop_table("chat_message")
    op.drop_table("chat_conversation")
