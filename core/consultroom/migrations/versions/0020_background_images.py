"""background images: the pictures an organisation offers to replace a
camera's background with in the consultation room (consultroom.room.backgrounds)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('background_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_background_image_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_image'))
    )
    with op.batch_alter_table('background_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_image_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    op.drop_table('background_image')
