"""job claims: which worker runs a periodic job for an organisation, and when
it is next due (consultroom.jobs.claims)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_claim',
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_job_claim_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job', 'organisation_id', name=op.f('pk_job_claim'))
    )
    with op.batch_alter_table('job_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_claim_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_claim_organisation_id'))

    op.drop_table('job_claim')
