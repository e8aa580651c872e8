"""Fixtures shared by the test modules. ``consultroom.testing`` (a pytest
plugin) provides the application, the database and the factories; these
support modules add the real realtime server (``server``, ``clinic``), the
clinic of the client-mail tests (``clinic_oost``) and the world of the route
walks (``world``); here, what the database is sent (``statements``,
``sent`` with the parameters, ``transactions_begun``)."""

import gc
import os

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

pytest_plugins = ["realtime_support", "clientmail_support", "route_walk"]

# The collector's default (a collection every 700 new objects) suits a
# program whose heap stays small. A test worker's grows to millions of
# objects (every module, model and test function, the apps the fixtures
# build), and every tenth young collection cascaded into scans of it: 10 to
# 20 % of a worker's CPU. Collections are made rarer, and what exists once
# the tests are collected (modules, classes, functions: it stays until the
# end) is left out of them.
YOUNG_COLLECTION_EVERY = 10_000


def pytest_configure(config):
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


def _noted(target, name, pick):
    """What ``pick`` takes from the arguments of each ``name`` event of
    ``target``, while the test runs."""
    seen = []

    def note(*args):
        seen.append(pick(args))

    event.listen(target, name, note)
    yield seen
    event.remove(target, name, note)


@pytest.fixture
def statements(db_connection):
    """The SQL the test's connection sends from now on (``clear()`` it after
    a warm-up)."""
    yield from _noted(db_connection, "before_cursor_execute", lambda args: args[2])


@pytest.fixture
def sent(db_connection):
    """(statement, parameters) of what the test's connection sends from now
    on."""
    yield from _noted(db_connection, "before_cursor_execute", lambda args: (args[2], args[3]))


@pytest.fixture
def transactions_begun():
    """The ORM session transactions begun from now on, by any session."""
    yield from _noted(Session, "after_transaction_create", lambda args: args[1])


def pytest_runtest_setup(item):
    # The test command leaves these out of its SQLite pass; run by hand on
    # SQLite they are skipped, not failed.
    if item.get_closest_marker("postgresql_only") and not _on_postgresql():
        pytest.skip("needs PostgreSQL (CONSULTROOM_TEST_DB)")


def _on_postgresql():
    return os.environ.get("CONSULTROOM_TEST_DB", "").startswith("postgresql")
