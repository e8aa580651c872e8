"""waiting room and consultation room state, shared files

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('walk_in_switch',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_walk_in_switch_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_walk_in_switch_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_walk_in_switch'))
    )
    with op.batch_alter_table('walk_in_switch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_in_switch_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('room',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('cleaned_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_room_appointment_id_appointment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_room_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_room_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room'))
    )
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('room_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=43), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_room_invite_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_room_invite_participant_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_room_invite_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_invite')),
    sa.UniqueConstraint('token', name=op.f('uq_room_invite_token'))
    )
    with op.batch_alter_table('room_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_invite_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_invite_room_id'), ['room_id'], unique=False)

    op.create_table('room_member',
    sa.Column('peer', sa.String(length=32), nullable=False),
    sa.Column('room_id', sa.String(length=43), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_room_member_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_room_member_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('peer', name=op.f('pk_room_member'))
    )
    with op.batch_alter_table('room_member', schema=None) as batch_op:
        batch_op.create_index('ix_room_member_present', ['room_id', 'left_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_member_user_id'), ['user_id'], unique=False)

    op.create_table('shared_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=43), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('uploaded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_shared_file_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_file'))
    )
    with op.batch_alter_table('shared_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_file_room_id'), ['room_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('arrival', sa.String(length=10), nullable=False),
    sa.Column('arrived_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.String(length=43), nullable=True),
    sa.Column('peer', sa.String(length=32), nullable=True),
    sa.Column('connected', sa.Boolean(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=True),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_visit_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['user_account.id'], name=op.f('fk_visit_claimed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_visit_department_id_department'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_visit_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['user_account.id'], name=op.f('fk_visit_practitioner_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_visit_room_id_room'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_visit_appointment_id'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_claimed_by_id'), ['claimed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_visit_org_state', ['organisation_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_practitioner_id'), ['practitioner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_room_id'), ['room_id'], unique=False)


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_room_id'))
        batch_op.drop_index(batch_op.f('ix_visit_practitioner_id'))
        batch_op.drop_index('ix_visit_org_state')
        batch_op.drop_index(batch_op.f('ix_visit_department_id'))
        batch_op.drop_index(batch_op.f('ix_visit_claimed_by_id'))

    op.drop_table('visit')
    with op.batch_alter_table('shared_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_file_room_id'))

    op.drop_table('shared_file')
    with op.batch_alter_table('room_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_member_user_id'))
        batch_op.drop_index('ix_room_member_present')

    op.drop_table('room_member')
    with op.batch_alter_table('room_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_invite_room_id'))
        batch_op.drop_index(batch_op.f('ix_room_invite_participant_id'))

    op.drop_table('room_invite')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_room_appointment_id'))

    op.drop_table('room')
    with op.batch_alter_table('walk_in_switch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_in_switch_organisation_id'))

    op.drop_table('walk_in_switch')
