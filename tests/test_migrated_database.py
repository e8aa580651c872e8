"""``consultroom.testing.migrated_database``: the databases that live servers
under test get, copied from one migrated template per process."""

import os

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from consultroom.db import make_session_factory, migrate
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Organisation
from consultroom.testing import migrated_database, scratch_database

SERVER = os.environ.get("CONSULTROOM_TEST_DB", "")


def _connect(url):
    engine = create_engine(url)
    return engine, engine.connect()


def test_each_copy_is_migrated_to_every_head_and_its_own(tmp_path):
    first_url, drop_first = migrated_database(SERVER, tmp_path / "first.sqlite")
    second_url, drop_second = migrated_database(SERVER, tmp_path / "second.sqlite")
    assert first_url != second_url
    first, first_conn = _connect(first_url)
    second, second_conn = _connect(second_url)
    try:
        plugins = PluginRegistry.discover()
        script = ScriptDirectory.from_config(migrate.alembic_config(first, plugins))
        wanted = set(script.get_heads())
        assert migrate.current_heads(first, plugins) == wanted
        assert migrate.current_heads(second, plugins) == wanted
        with make_session_factory(first)() as session:
            session.add(Organisation(subdomain="copy", name="Copy"))
            session.commit()
        assert first_conn.scalar(text("SELECT count(*) FROM organisation")) == 1
        assert second_conn.scalar(text("SELECT count(*) FROM organisation")) == 0
    finally:
        for conn in (first_conn, second_conn):
            conn.close()
        for engine in (first, second):
            engine.dispose()
        drop_first()
        drop_second()


# SQLite has no such setting (the copy is a file): the PostgreSQL pass runs it.
@pytest.mark.postgresql_only
def test_on_postgresql_tests_commit_without_waiting_for_the_disk(tmp_path):
    for url, drop, expected in (
        (*migrated_database(SERVER, tmp_path / "unused.sqlite"), "off"),
        (*scratch_database(SERVER, tmp_path / "unused.sqlite", durable=False), "off"),
        (*scratch_database(SERVER, tmp_path / "unused.sqlite"), "on"),
    ):
        engine, conn = _connect(url)
        try:
            assert conn.scalar(text("SHOW synchronous_commit")) == expected
        finally:
            conn.close()
            engine.dispose()
            drop()
