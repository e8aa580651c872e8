"""connection problems: failed media connections and network tests as the
browsers report them, counted in the usage report (consultroom.room.problems)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-13 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connection_problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_connection_problem_appointment_id_appointment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_connection_problem_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_connection_problem_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_problem'))
    )
    with op.batch_alter_table('connection_problem', schema=None) as batch_op:
        batch_op.create_index('ix_connection_problem_org_at', ['organisation_id', 'at'], unique=False)
    with op.batch_alter_table('usage_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connection_problems', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('usage_day', schema=None) as batch_op:
        batch_op.drop_column('connection_problems')
    op.drop_table('connection_problem')
