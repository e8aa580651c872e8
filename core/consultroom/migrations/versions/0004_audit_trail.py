"""audit trail: hash-chained entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# A guard against mistakes, not against a database administrator:
# ``consultroom audit verify`` finds changed rows whatever their cause.
APPEND_ONLY = {
    'postgresql': [
        """CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'audit entries cannot be changed or deleted'; END $$""",
        """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
           FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
        """CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
           FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
    ],
    'sqlite': [
        """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
           BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed or deleted'); END""",
        """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
           BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed or deleted'); END""",
    ],
}
DROP_APPEND_ONLY = {
    'postgresql': ['DROP TRIGGER audit_entry_no_truncate ON audit_entry',
                   'DROP TRIGGER audit_entry_append_only ON audit_entry',
                   'DROP FUNCTION audit_entry_append_only()'],
    'sqlite': ['DROP TRIGGER audit_entry_no_update', 'DROP TRIGGER audit_entry_no_delete'],
}


def upgrade():
    op.create_table('audit_chain',
    sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_audit_chain'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('support_user_id', sa.Integer(), nullable=True),
    sa.Column('support_user_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('organisation_id', 'seq', name=op.f('uq_audit_entry_organisation_id_seq'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)

    op.create_table('support_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('support_user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_support_token_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['support_user_id'], ['user_account.id'], name=op.f('fk_support_token_support_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_support_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_support_token_token_hash'))
    )
    with op.batch_alter_table('support_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_token_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_token_support_user_id'), ['support_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_token_user_id'), ['user_id'], unique=False)

    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    for statement in DROP_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('support_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_support_token_support_user_id'))
        batch_op.drop_index(batch_op.f('ix_support_token_organisation_id'))

    op.drop_table('support_token')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))

    op.drop_table('audit_entry')
    op.drop_table('audit_chain')
