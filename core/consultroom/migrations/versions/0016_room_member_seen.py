"""room members' presence: when the process serving a member's socket last
said it is still open (consultroom.room.presence), so that the members of a
process that died leave their rooms

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('room_member') as batch:
        batch.add_column(sa.Column('seen_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('room_member') as batch:
        batch.drop_column('seen_at')
