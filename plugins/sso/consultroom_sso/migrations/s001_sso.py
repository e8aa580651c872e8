"""sso: connections, identities and pending logins

Revision ID: s001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "s001"
down_revision = None
branch_labels = ("sso",)
depends_on = "0001"  # the core's organisation, department and user tables


def _organisation():
    return sa.Column(
        "organisation_id",
        sa.Integer(),
        sa.ForeignKey("organisation.id", ondelete="CASCADE"),
        nullable=False,
    )


def _connection():
    return sa.Column(
        "connection_id",
        sa.Integer(),
        sa.ForeignKey("sso_connection.id", ondelete="CASCADE"),
        nullable=False,
    )


def _user(name, nullable=False):
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=nullable
    )


def upgrade():
    op.create_table(
        "sso_connection",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("button_text", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column(
            "department_id",
            sa.Integer(),
            sa.ForeignKey("department.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("create_users", sa.Boolean(), nullable=False),
        sa.Column("password_login", sa.Boolean(), nullable=False),
        sa.Column("accept_mfa", sa.Boolean(), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(500), nullable=False),
        sa.Column("client_secret", sa.LargeBinary(), nullable=True),
        sa.Column("allowed_domains", sa.String(1000), nullable=False),
        sa.Column("allowed_tenants", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sso_identity",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        _connection(),
        sa.Column("subject", sa.String(255), nullable=False),
        _user("user_id"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("connection_id", "subject"),
        sa.UniqueConstraint("connection_id", "user_id"),
    )
    op.create_table(
        "sso_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        _organisation(),
        _connection(),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_url", sa.String(500), nullable=False),
        _user("link_user_id", nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    for table in ("sso_connection", "sso_identity", "sso_pending"):
        op.create_index(f"ix_{table}_organisation_id", table, ["organisation_id"])


def downgrade():
    for table in ("sso_pending", "sso_identity", "sso_connection"):
        op.drop_table(table)
