"""participant links: each extra participant of an appointment gets their
own link token, and a waiting participant's socket is kept

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 12:00:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment_participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('waiting_peer', sa.String(length=32), nullable=True))
    # The participants already on appointments get a token of their own.
    table = sa.table(
        'appointment_participant',
        sa.column('appointment_id', sa.Integer),
        sa.column('participant_id', sa.Integer),
        sa.column('token', sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.appointment_id, table.c.participant_id)).all()
    for appointment_id, participant_id in rows:
        bind.execute(
            table.update()
            .where(
                table.c.appointment_id == appointment_id,
                table.c.participant_id == participant_id,
            )
            .values(token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('appointment_participant', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_appointment_participant_token'), ['token']
        )


def downgrade():
    with op.batch_alter_table('appointment_participant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_appointment_participant_token'), type_='unique')
        batch_op.drop_column('waiting_peer')
        batch_op.drop_column('token')
