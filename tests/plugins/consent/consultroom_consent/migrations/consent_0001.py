"""consent: the consents given and the lifecycle log

Revision ID: consent_0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "consent_0001"
down_revision = None
branch_labels = ("consent",)
depends_on = "0002"  # the core's organisation and appointment tables


def _organisation(table):
    return sa.ForeignKeyConstraint(
        ["organisation_id"],
        ["organisation.id"],
        name=op.f(f"fk_{table}_organisation_id_organisation"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "consent_given",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        _organisation("consent_given"),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_consent_given_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_given")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_consent_given_appointment_id")),
    )
    op.create_index(op.f("ix_consent_given_client_id"), "consent_given", ["client_id"])
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.String(length=43), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        _organisation("consent_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
    )
    op.create_index(op.f("ix_consent_event_organisation_id"), "consent_event", ["organisation_id"])


def downgrade():
    op.drop_table("consent_event")
    op.drop_table("consent_given")
