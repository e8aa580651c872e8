"""client texts per language: the waiting-room text (per department too),
the follow-up message and the disclaimer written in a language, and service
messages in other languages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-12 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'client_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_client_text_department_id_department'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_client_text_organisation_id_organisation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_text')),
    )
    with op.batch_alter_table('client_text', schema=None) as batch_op:
        batch_op.create_index('ix_client_text_lookup', ['organisation_id', 'kind', 'language'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_text_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_text_organisation_id'), ['organisation_id'], unique=False)
    with op.batch_alter_table('service_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    op.execute("UPDATE service_message SET translations = '{}'")
    with op.batch_alter_table('service_message', schema=None) as batch_op:
        batch_op.alter_column('translations', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('service_message', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('client_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_text_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_client_text_department_id'))
        batch_op.drop_index('ix_client_text_lookup')
    op.drop_table('client_text')
