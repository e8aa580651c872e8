"""portal PINs: the e-mailed PIN that opens a client's portal outside an
appointment's link window (consultroom.portal)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-13 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('portal_pin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('pin_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('wrong_tries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_portal_pin_client_id_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_portal_pin_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_pin'))
    )
    with op.batch_alter_table('portal_pin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_pin_client_id'), ['client_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_portal_pin_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    op.drop_table('portal_pin')
