"""rate limit key rows: checking and counting a key's failures is one step

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_key',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('touched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_key'))
    )
    with op.batch_alter_table('rate_limit_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_key_touched_at'), ['touched_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_key_touched_at'))

    op.drop_table('rate_limit_key')
