"""sso: SAML 2.0 connections, answers waiting to finish, seen assertions

Revision ID: s002
Revises: s001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "s002"
down_revision = "s001"
branch_labels = None
depends_on = None

CONNECTION = (
    ("idp_metadata", sa.Text()),
    ("idp_metadata_url", sa.String(500)),
    ("email_attribute", sa.String(200)),
    ("name_attribute", sa.String(200)),
)
PENDING = (
    ("subject", sa.String(255)),
    ("email", sa.String(254)),
    ("name", sa.String(200)),
)


def upgrade():
    for table, columns in (("sso_connection", CONNECTION), ("sso_pending", PENDING)):
        with op.batch_alter_table(table) as batch:
            for name, type_ in columns:
                batch.add_column(sa.Column(name, type_, nullable=False, server_default=""))
    op.create_table(
        "sso_seen_assertion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "connection_id",
            sa.Integer(),
            sa.ForeignKey("sso_connection.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("assertion_id", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("connection_id", "assertion_id"),
    )
    op.create_index(
        "ix_sso_seen_assertion_organisation_id", "sso_seen_assertion", ["organisation_id"]
    )


def downgrade():
    op.drop_table("sso_seen_assertion")
    for table, columns in (("sso_pending", PENDING), ("sso_connection", CONNECTION)):
        with op.batch_alter_table(table) as batch:
            for name, _type in columns:
                batch.drop_column(name)
