"""organisation theme and custom CSS: the installed theme an organisation's
pages use (empty: the installation's) and its checked custom stylesheet
(consultroom.web.themes, consultroom.web.safecss)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=63), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('custom_css', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('custom_css')
        batch_op.drop_column('theme')
