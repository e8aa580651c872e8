"""clients appointments scheduling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:12:30.788479
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('portal_token', sa.String(length=64), nullable=False),
    sa.Column('initials', sa.String(length=20), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('client_number', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_client_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client')),
    sa.UniqueConstraint('portal_token', name=op.f('uq_client_portal_token'))
    )
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('mail_template_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_mail_template_set_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_template_set'))
    )
    with op.batch_alter_table('mail_template_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_template_set_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('initials', sa.String(length=20), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('client_number', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_participant_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('participant_group_def',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_participant_group_def_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_group_def')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_participant_group_def_organisation_id_name'))
    )
    with op.batch_alter_table('participant_group_def', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_group_def_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('walk_in_widget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('opening_hours', sa.Text(), nullable=False),
    sa.Column('absence_text', sa.Text(), nullable=False),
    sa.Column('terms_text', sa.Text(), nullable=False),
    sa.Column('primary_colour', sa.String(length=7), nullable=False),
    sa.Column('background_colour', sa.String(length=7), nullable=False),
    sa.Column('intake_fields', sa.JSON(), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('background', sa.LargeBinary(), nullable=True),
    sa.Column('custom_css', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_walk_in_widget_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_in_widget')),
    sa.UniqueConstraint('public_id', name=op.f('uq_walk_in_widget_public_id'))
    )
    with op.batch_alter_table('walk_in_widget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_in_widget_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('client_department',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_department_client_id_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_client_department_department_id_department'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', 'department_id', name=op.f('pk_client_department'))
    )
    op.create_table('mail_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_set_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['template_set_id'], ['mail_template_set.id'], name=op.f('fk_mail_template_template_set_id_mail_template_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_template')),
    sa.UniqueConstraint('template_set_id', 'kind', name=op.f('uq_mail_template_template_set_id_kind'))
    )
    op.create_table('mail_template_set_department',
    sa.Column('template_set_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_mail_template_set_department_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_set_id'], ['mail_template_set.id'], name=op.f('fk_mail_template_set_department_template_set_id_mail_template_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_set_id', 'department_id', name=op.f('pk_mail_template_set_department'))
    )
    op.create_table('participant_group',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['participant_group_def.id'], name=op.f('fk_participant_group_group_id_participant_group_def'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_participant_group_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', 'group_id', name=op.f('pk_participant_group'))
    )
    op.create_table('service_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_service_message_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_message_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_message'))
    )
    with op.batch_alter_table('service_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_message_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_message_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('walk_in_widget_department',
    sa.Column('widget_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_walk_in_widget_department_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['widget_id'], ['walk_in_widget.id'], name=op.f('fk_walk_in_widget_department_widget_id_walk_in_widget'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('widget_id', 'department_id', name=op.f('pk_walk_in_widget_department'))
    )
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('appointment', 'quick', 'walk_in', name='kind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='status', native_enum=False, length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('reminder_sent_at', sa.DateTime(), nullable=True),
    sa.Column('anonymised_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_appointment_client_id_client'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_appointment_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_appointment_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['user_account.id'], name=op.f('fk_appointment_practitioner_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('token', name=op.f('uq_appointment_token'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_appointment_org_start', ['organisation_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_practitioner_id'), ['practitioner_id'], unique=False)
        batch_op.create_index('uq_appointment_department_slot', ['department_id', 'starts_at'], unique=True, postgresql_where=sa.text("status = 'scheduled' AND kind = 'appointment' AND practitioner_id IS NULL"), sqlite_where=sa.text("status = 'scheduled' AND kind = 'appointment' AND practitioner_id IS NULL"))
        batch_op.create_index('uq_appointment_practitioner_slot', ['practitioner_id', 'starts_at'], unique=True, postgresql_where=sa.text("status = 'scheduled' AND kind = 'appointment'"), sqlite_where=sa.text("status = 'scheduled' AND kind = 'appointment'"))

    op.create_table('availability_block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('gap_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(practitioner_id IS NULL) <> (department_id IS NULL)', name=op.f('ck_availability_block_practitioner_or_department')),
    sa.CheckConstraint('(weekday IS NULL) <> (on_date IS NULL)', name=op.f('ck_availability_block_once_or_weekly')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_availability_block_ends_after_start')),
    sa.CheckConstraint('slot_minutes > 0 AND gap_minutes >= 0', name=op.f('ck_availability_block_positive_lengths')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_availability_block_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_availability_block_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['user_account.id'], name=op.f('fk_availability_block_practitioner_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_block'))
    )
    with op.batch_alter_table('availability_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_block_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_block_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_block_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('client_practitioner',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_practitioner_client_id_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_client_practitioner_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', 'user_id', name=op.f('pk_client_practitioner'))
    )
    op.create_table('appointment_participant',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_appointment_participant_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_appointment_participant_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', 'participant_id', name=op.f('pk_appointment_participant'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_room_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('embed_origins', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.String(length=100), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('ref')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
        batch_op.drop_column('waiting_room_text')

    op.drop_table('appointment_participant')
    op.drop_table('client_practitioner')
    with op.batch_alter_table('availability_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_block_practitioner_id'))
        batch_op.drop_index(batch_op.f('ix_availability_block_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_availability_block_department_id'))

    op.drop_table('availability_block')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('uq_appointment_practitioner_slot', postgresql_where=sa.text("status = 'scheduled' AND kind = 'appointment'"), sqlite_where=sa.text("status = 'scheduled' AND kind = 'appointment'"))
        batch_op.drop_index('uq_appointment_department_slot', postgresql_where=sa.text("status = 'scheduled' AND kind = 'appointment' AND practitioner_id IS NULL"), sqlite_where=sa.text("status = 'scheduled' AND kind = 'appointment' AND practitioner_id IS NULL"))
        batch_op.drop_index(batch_op.f('ix_appointment_practitioner_id'))
        batch_op.drop_index('ix_appointment_org_start')
        batch_op.drop_index(batch_op.f('ix_appointment_department_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_client_id'))

    op.drop_table('appointment')
    op.drop_table('walk_in_widget_department')
    with op.batch_alter_table('service_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_message_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_service_message_department_id'))

    op.drop_table('service_message')
    op.drop_table('participant_group')
    op.drop_table('mail_template_set_department')
    op.drop_table('mail_template')
    op.drop_table('client_department')
    with op.batch_alter_table('walk_in_widget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_in_widget_organisation_id'))

    op.drop_table('walk_in_widget')
    with op.batch_alter_table('participant_group_def', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_group_def_organisation_id'))

    op.drop_table('participant_group_def')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_organisation_id'))

    op.drop_table('participant')
    with op.batch_alter_table('mail_template_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_template_set_organisation_id'))

    op.drop_table('mail_template_set')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_organisation_id'))

    op.drop_table('client')
