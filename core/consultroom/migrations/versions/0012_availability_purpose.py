"""availability purpose: each availability block is for booking, walk-ins or
both; the blocks made before are "both" (what they did until now)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('availability_block', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=10), nullable=True))
    op.execute("UPDATE availability_block SET purpose = 'both'")
    with op.batch_alter_table('availability_block', schema=None) as batch_op:
        batch_op.alter_column('purpose', existing_type=sa.String(length=10), nullable=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_availability_block_known_purpose'),
            "purpose IN ('booking', 'walk_in', 'both')",
        )


def downgrade():
    with op.batch_alter_table('availability_block', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('ck_availability_block_known_purpose'), type_='check'
        )
        batch_op.drop_column('purpose')
