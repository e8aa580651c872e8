"""notes: note table"""

import sqlalchemy as sa
from alembic import op

revision = "n001"
down_revision = None
branch_labels = ("notes",)
depends_on = "0001"


def upgrade():
    op.create_table(
        "notes_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.String(500), nullable=False),
    )


def downgrade():
    op.drop_table("notes_note")
