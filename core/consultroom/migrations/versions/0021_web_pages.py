"""web pages: page sets, their pages and the media library
(consultroom.webpages)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('web_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_web_image_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_image')),
    sa.UniqueConstraint('public_id', name=op.f('uq_web_image_public_id'))
    )
    with op.batch_alter_table('web_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_image_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('web_page_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('header_image_id', sa.Integer(), nullable=True),
    sa.Column('primary_colour', sa.String(length=7), nullable=False),
    sa.Column('background_colour', sa.String(length=7), nullable=False),
    sa.Column('text_colour', sa.String(length=7), nullable=False),
    sa.Column('menu_background', sa.String(length=7), nullable=False),
    sa.Column('menu_text', sa.String(length=7), nullable=False),
    sa.Column('custom_css', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['header_image_id'], ['web_image.id'], name=op.f('fk_web_page_set_header_image_id_web_image'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_web_page_set_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_page_set')),
    sa.UniqueConstraint('slug', name=op.f('uq_web_page_set_slug'))
    )
    with op.batch_alter_table('web_page_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_page_set_header_image_id'), ['header_image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_page_set_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('web_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('menu_title', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('main_text', sa.Text(), nullable=False),
    sa.Column('main_image_id', sa.Integer(), nullable=True),
    sa.Column('widget', sa.String(length=10), nullable=False),
    sa.Column('walk_in_widget_id', sa.Integer(), nullable=True),
    sa.Column('subtext', sa.Text(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['main_image_id'], ['web_image.id'], name=op.f('fk_web_page_main_image_id_web_image'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_web_page_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['web_page_set.id'], name=op.f('fk_web_page_set_id_web_page_set'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['walk_in_widget_id'], ['walk_in_widget.id'], name=op.f('fk_web_page_walk_in_widget_id_walk_in_widget'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_page')),
    sa.UniqueConstraint('set_id', 'position', name=op.f('uq_web_page_set_id_position'))
    )
    with op.batch_alter_table('web_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_page_main_image_id'), ['main_image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_page_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_page_set_id'), ['set_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_page_walk_in_widget_id'), ['walk_in_widget_id'], unique=False)



def downgrade():
    with op.batch_alter_table('web_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_page_walk_in_widget_id'))
        batch_op.drop_index(batch_op.f('ix_web_page_set_id'))
        batch_op.drop_index(batch_op.f('ix_web_page_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_web_page_main_image_id'))

    op.drop_table('web_page')
    with op.batch_alter_table('web_page_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_page_set_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_web_page_set_header_image_id'))

    op.drop_table('web_page_set')
    with op.batch_alter_table('web_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_image_organisation_id'))

    op.drop_table('web_image')
