"""questionnaires: questionnaires, their versions, clients' data keys,
responses and uploaded images

Revision ID: q001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "q001"
down_revision = None
branch_labels = ("questionnaires",)
depends_on = "0006"  # the core's client, appointment and department tables


def _id_and_org():
    return [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisation.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    ]


def upgrade():
    op.create_table(
        "questionnaires_questionnaire",
        *_id_and_org(),
        sa.Column(
            "department_id",
            sa.Integer(),
            sa.ForeignKey("department.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "questionnaires_version",
        *_id_and_org(),
        sa.Column(
            "questionnaire_id",
            sa.Integer(),
            sa.ForeignKey("questionnaires_questionnaire.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "questionnaires_client_key",
        *_id_and_org(),
        sa.Column(
            "client_id",
            sa.Integer(),
            sa.ForeignKey("client.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "questionnaires_response",
        *_id_and_org(),
        sa.Column(
            "questionnaire_id",
            sa.Integer(),
            sa.ForeignKey("questionnaires_questionnaire.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("questionnaires_version.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "client_id",
            sa.Integer(),
            sa.ForeignKey("client.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "appointment_id",
            sa.Integer(),
            sa.ForeignKey("appointment.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answers", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Index("ix_questionnaires_response_client", "client_id", "status"),
    )
    op.create_table(
        "questionnaires_image",
        *_id_and_org(),
        sa.Column(
            "response_id",
            sa.Integer(),
            sa.ForeignKey("questionnaires_response.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("field_key", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    for table in (
        "questionnaires_image",
        "questionnaires_response",
        "questionnaires_client_key",
        "questionnaires_version",
        "questionnaires_questionnaire",
    ):
        op.drop_table(table)
