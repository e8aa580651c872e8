"""audit entries linked after commit: a pending table written without a lock,
facets and indexes for the trail page's filters and pages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 00:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# A pending row is only ever inserted (by a request) and deleted (by the
# chainer, which moves it into audit_entry): its content cannot change on
# the way into the chain.
NO_UPDATE = {
    'postgresql': [
        """CREATE FUNCTION audit_pending_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'audit entries cannot be changed'; END $$""",
        """CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
           FOR EACH ROW EXECUTE FUNCTION audit_pending_no_update()""",
    ],
    'sqlite': [
        """CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
           BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END""",
    ],
}
DROP_NO_UPDATE = {
    'postgresql': ['DROP TRIGGER audit_pending_no_update ON audit_pending',
                   'DROP FUNCTION audit_pending_no_update()'],
    'sqlite': ['DROP TRIGGER audit_pending_no_update'],
}

# The filters' values as the trail has them so far; from here on the
# chainer adds them. A user's label is the name on their latest entry.
FACETS = [
    """INSERT INTO audit_facet (organisation_id, kind, value, label)
       SELECT DISTINCT organisation_id, 'action', action, action FROM audit_entry""",
    """INSERT INTO audit_facet (organisation_id, kind, value, label)
       SELECT DISTINCT organisation_id, 'object_type', object_type, object_type
       FROM audit_entry WHERE object_type IS NOT NULL""",
    """INSERT INTO audit_facet (organisation_id, kind, value, label)
       SELECT e.organisation_id, 'user', CAST(e.user_id AS VARCHAR(100)), e.user_name
       FROM audit_entry e
       WHERE e.user_id IS NOT NULL AND e.seq = (
           SELECT max(seq) FROM audit_entry l
           WHERE l.organisation_id = e.organisation_id AND l.user_id = e.user_id)""",
]

INDEXES = {
    'ix_audit_entry_user': ['organisation_id', 'user_id', 'seq'],
    'ix_audit_entry_action': ['organisation_id', 'action', 'seq'],
    'ix_audit_entry_object_type': ['organisation_id', 'object_type', 'seq'],
    'ix_audit_entry_object_id': ['organisation_id', 'object_id', 'seq'],
}


def upgrade():
    op.create_table('audit_pending',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
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
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_pending'))
    )
    op.create_table('audit_facet',
    sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('organisation_id', 'kind', 'value', name=op.f('pk_audit_facet'))
    )
    # Not in batch mode: recreating audit_entry on SQLite would drop its
    # append-only triggers.
    op.drop_index('ix_audit_entry_user_id', table_name='audit_entry')
    for name, columns in INDEXES.items():
        op.create_index(name, 'audit_entry', columns, unique=False)
    for statement in FACETS + NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    # Before 0008 every entry was linked in its request's transaction: the
    # pending ones would be lost with their table.
    if op.get_bind().execute(sa.text('SELECT count(*) FROM audit_pending')).scalar():
        raise RuntimeError(
            'audit entries are waiting to be linked: run `consultroom worker --once`'
            ' with the application stopped, then downgrade'
        )
    for statement in DROP_NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    for name in INDEXES:
        op.drop_index(name, table_name='audit_entry')
    op.create_index('ix_audit_entry_user_id', 'audit_entry', ['user_id'], unique=False)
    op.drop_table('audit_facet')
    op.drop_table('audit_pending')
