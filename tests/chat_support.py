"""Helpers for the chat tests: a database that refuses an organisation's
chat messages, so that a relayed message's write fails as a constraint
would (a trigger, on SQLite and PostgreSQL alike)."""

from contextlib import contextmanager

from sqlalchemy import text


@contextmanager
def inserts_refused(engine, organisation_id):
    """While inside, every INSERT of organisation ``organisation_id``'s chat
    messages fails in the database."""
    name = f"refuse_chat_{organisation_id}"
    if engine.dialect.name == "sqlite":
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON chat_message"
            f" WHEN NEW.organisation_id = {organisation_id}"
            " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ]
        drop = [f"DROP TRIGGER {name}"]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT ON chat_message FOR EACH ROW"
            f" WHEN (NEW.organisation_id = {organisation_id}) EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER {name} ON chat_message", f"DROP FUNCTION {name}()"]
    execute(engine, create)
    try:
        yield
    finally:
        execute(engine, drop)


def execute(engine, statements):
    """Run ``statements`` (SQL text or SQLAlchemy statements) in one transaction."""
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement) if isinstance(statement, str) else statement)
