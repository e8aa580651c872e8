"""consultroom.db.execute_alone: one statement as a transaction of its own,
off any request (a websocket's chat message in the room)."""

import os

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text

from consultroom.db import execute_alone, make_session_factory
from consultroom.testing import scratch_database

SERVER = os.environ.get("CONSULTROOM_TEST_DB", "")
NOTES = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))


@pytest.fixture
def registry(tmp_path):
    url, drop = scratch_database(SERVER, tmp_path / "alone.sqlite", durable=False)
    engine = create_engine(url)
    NOTES.metadata.create_all(engine)
    yield {"dbmaker": make_session_factory(engine)}
    engine.dispose()
    drop()


def _texts(registry):
    with registry["dbmaker"]() as session:
        return session.scalars(select(NOTES.c.text).order_by(NOTES.c.id)).all()


def test_a_statement_is_committed_on_its_own(registry):
    execute_alone(registry, NOTES.insert(), {"text": "one"})
    execute_alone(registry, NOTES.insert(), {"text": "two"})
    assert _texts(registry) == ["one", "two"]


def test_a_failing_statement_writes_nothing_and_raises(registry):
    execute_alone(registry, NOTES.insert(), {"id": 100, "text": "one"})
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        execute_alone(registry, NOTES.insert(), {"id": 100, "text": "again"})
    execute_alone(registry, NOTES.insert(), {"text": "after"})
    assert sorted(_texts(registry)) == ["after", "one"]


@pytest.mark.postgresql_only
def test_the_kept_connection_is_replaced_when_the_server_dropped_it(registry):
    execute_alone(registry, NOTES.insert(), {"text": "before"})
    engine = registry["dbmaker"].kw["bind"]
    with engine.connect() as admin:
        dropped = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        admin.commit()
    assert dropped  # the kept connection was one of them
    execute_alone(registry, NOTES.insert(), {"text": "after"})
    assert _texts(registry) == ["before", "after"]
