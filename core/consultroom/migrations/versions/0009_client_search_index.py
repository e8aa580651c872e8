"""client search index: a pg_trgm GIN index on PostgreSQL, an FTS5 trigram
table kept by triggers on SQLite (consultroom.clients.search)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:00:00
"""

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The columns the search box looks at (clients.search.COLUMNS).
COLUMNS = ("last_name", "initials", "email", "client_number")
INDEX = "client_search"


class SearchIndexUnavailable(RuntimeError):
    """The database cannot hold the client search index."""


def _postgresql(bind):
    available = bind.scalar(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"))
    if not available:
        raise SearchIndexUnavailable(
            "Client search needs PostgreSQL's pg_trgm extension, which this server does"
            " not have. Install the server's contrib package (on Debian:"
            " postgresql-contrib) and migrate again."
        )
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as exc:
        raise SearchIndexUnavailable(
            "Client search needs PostgreSQL's pg_trgm extension, and this database user"
            f" may not create it ({exc.orig}). Ask a superuser to run"
            " 'CREATE EXTENSION pg_trgm;' in this database, then migrate again."
        ) from exc
    # clients.search.SEARCH_TEXT: the same expression, or the planner cannot
    # use it. Without fastupdate a new client goes into the index at once,
    # not into a pending list that every search must read (and that makes
    # the planner price the index above reading the whole table) until the
    # next vacuum: clients are added one at a time, searched all day.
    searched = " || ' ' || ".join(COLUMNS)
    bind.execute(
        text(
            f"CREATE INDEX {INDEX}_text ON client"
            f" USING gin (lower({searched}) gin_trgm_ops) WITH (fastupdate = off)"
        )
    )


def _sqlite(bind):
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    try:
        bind.execute(
            text(
                f"CREATE VIRTUAL TABLE {INDEX} USING fts5({columns}, content='client',"
                " content_rowid='id', tokenize='trigram')"
            )
        )
    except DBAPIError as exc:
        raise SearchIndexUnavailable(
            "Client search needs SQLite 3.34 or later with FTS5 and its trigram"
            f" tokenizer ({exc.orig}). Use a Python whose SQLite has them, then migrate again."
        ) from exc
    # The triggers of SQLite's manual for an external-content table.
    for statement in (
        f"CREATE TRIGGER {INDEX}_insert AFTER INSERT ON client BEGIN"  # our constants  # nosec B608
        f" INSERT INTO {INDEX}(rowid, {columns}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {INDEX}_delete AFTER DELETE ON client BEGIN"  # our constants  # nosec B608
        f" INSERT INTO {INDEX}({INDEX}, rowid, {columns}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {INDEX}_update AFTER UPDATE ON client BEGIN"  # our constants  # nosec B608
        f" INSERT INTO {INDEX}({INDEX}, rowid, {columns}) VALUES ('delete', old.id, {old});"
        f" INSERT INTO {INDEX}(rowid, {columns}) VALUES (new.id, {new}); END",
        f"INSERT INTO {INDEX}({INDEX}) VALUES ('rebuild')",  # our constants  # nosec B608
    ):
        bind.execute(text(statement))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgresql(bind)
    elif bind.dialect.name == "sqlite":
        _sqlite(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The extension stays: something else in the database may use it.
        bind.execute(text(f"DROP INDEX {INDEX}_text"))
    elif bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            bind.execute(text(f"DROP TRIGGER {INDEX}_{trigger}"))
        bind.execute(text(f"DROP TABLE {INDEX}"))
