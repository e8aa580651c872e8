"""translation: rooms with captions on (worker leases) and transcript lines

Revision ID: t001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "t001"
down_revision = None
branch_labels = ("translation",)
depends_on = "0006"  # the core's appointment and room tables


def upgrade():
    op.create_table(
        "translation_caption_room",
        sa.Column("room_id", sa.String(length=43), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("switched_on_at", sa.DateTime(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
            name=op.f("fk_translation_caption_room_room_id_room"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_translation_caption_room_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_translation_caption_room")),
    )
    op.create_index(
        op.f("ix_translation_caption_room_organisation_id"),
        "translation_caption_room",
        ["organisation_id"],
    )
    op.create_table(
        "translation_transcript_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=43), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("speaker", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_translation_transcript_line_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
            name=op.f("fk_translation_transcript_line_room_id_room"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_translation_transcript_line_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation_transcript_line")),
    )
    for column in ("organisation_id", "room_id", "appointment_id"):
        op.create_index(
            op.f(f"ix_translation_transcript_line_{column}"),
            "translation_transcript_line",
            [column],
        )


def downgrade():
    op.drop_table("translation_transcript_line")
    op.drop_table("translation_caption_room")
