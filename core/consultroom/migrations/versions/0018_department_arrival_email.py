"""department arrival e-mail: an address told of each client arriving in
the department's waiting list (consultroom.alerts)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-13 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrival_email', sa.String(length=254), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('arrival_email')
