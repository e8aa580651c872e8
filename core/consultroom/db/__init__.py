"""Database access: the declarative base, engines and the per-request session.

``request.dbsession`` is joined to the request's transaction manager by
zope.sqlalchemy, so a view never commits: pyramid_tm commits when the view
succeeds and aborts when it raises, and pyramid_retry replays the request,
after a short random pause, on a serialisation conflict.
"""

import logging
import random
import sqlite3
import threading
import time
import weakref
from datetime import UTC, datetime

import zope.sqlalchemy
from pyramid_retry import IBeforeRetry
from sqlalchemy import MetaData, engine_from_config, event, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from zope.sqlalchemy.datamanager import ZopeTransactionEvents

from consultroom.db import sqlite
from consultroom.db.scope import follow_request

# Stable constraint names, so that Alembic migrations can refer to them on
# every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


def upsert(dbsession, model):
    """An INSERT into ``model``'s table that takes ``on_conflict_do_nothing``
    and ``on_conflict_do_update``, for the session's database."""
    return upsert_for(dbsession.get_bind().dialect.name, model)


def upsert_for(dialect, model):
    """``upsert`` for a database kind (the dialect's name)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def make_engine(settings, prefix="sqlalchemy."):
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":
        sqlite.set_up(engine)
    return engine


class JoinableSession(Session):
    """A session that ``request_session`` can join to a transaction manager.

    zope.sqlalchemy's ``register`` adds seven event listeners to each session
    it is given, which took about a sixth of a small page's time (the login
    page). Sessions of this class have those listeners once, on the class:
    each passes the event to the session's own ``ZopeTransactionEvents`` in
    ``session.info``, if it has one (a request's session); other sessions of
    the class (a command's, a test's) have none and are left alone."""


_ZOPE_EVENTS = "consultroom.zope_events"


def _forward(name):
    def listener(session_or_context, *args):
        # The bulk events get a context that carries the session.
        session = getattr(session_or_context, "session", session_or_context)
        events = session.info.get(_ZOPE_EVENTS)
        if events is not None:
            getattr(events, name)(session_or_context, *args)

    return listener


for _event in (
    "after_begin",
    "after_attach",
    "after_flush",
    "after_bulk_update",
    "after_bulk_delete",
    "before_commit",
    "do_orm_execute",
):
    event.listen(JoinableSession, _event, _forward(_event))


def make_session_factory(engine_or_connection, **kw):
    return sessionmaker(
        bind=engine_or_connection, class_=JoinableSession, expire_on_commit=False, **kw
    )


# zope.sqlalchemy's state for a session joining a transaction: "changed" from
# the start, so that a request that only reads commits too, where it would be
# rolled back. Both end a read alike, but psycopg forgets every prepared
# statement at a rollback, so on PostgreSQL every page's statements were
# parsed and planned again (measured: the PostgreSQL pass of the tests 10 %
# less CPU).
_JOINED_AS = "changed"


def request_session(dbmaker, transaction_manager):
    """A session that commits and aborts with ``transaction_manager``."""
    session = dbmaker()
    if isinstance(session, JoinableSession):
        events = ZopeTransactionEvents(
            initial_state=_JOINED_AS, transaction_manager=transaction_manager
        )
        session.info[_ZOPE_EVENTS] = events
    else:  # a session factory that is not make_session_factory's
        zope.sqlalchemy.register(
            session, initial_state=_JOINED_AS, transaction_manager=transaction_manager
        )
    return session


def after_commit(request, function, *args):
    """Call ``function(*args)`` once the request's transaction has committed
    (not at all when it is aborted)."""

    def call(committed):
        if committed:
            function(*args)

    request.tm.get().addAfterCommitHook(call)


def unless_committed(request, function, *args):
    """Call ``function(*args)`` when the request's transaction is aborted or
    its commit fails: to undo what the transaction did outside the database."""
    transaction = request.tm.get()

    def call(committed):
        if not committed:
            function(*args)

    transaction.addAfterCommitHook(call)
    transaction.addAfterAbortHook(function, args)


def execute_alone(registry, statement, params, attempts=3):
    """Run ``statement`` with ``params`` as a transaction of its own, off
    any request's: for a write that is one statement and nothing else (a
    websocket's chat message). On PostgreSQL it commits as it runs
    (autocommit: one round trip, where BEGIN, the statement and COMMIT take
    three), on a connection the process keeps for such writes (no pool
    checkout and reset for each); SQLite's "database is locked" (a
    concurrent writer) is retried."""
    engine = registry["dbmaker"].kw["bind"]
    for attempt in range(attempts):
        try:
            if engine.dialect.name == "postgresql":
                _autocommitted(registry, engine).execute(statement, params)
            else:
                with engine.begin() as connection:
                    connection.execute(statement, params)
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class _Autocommitted:
    """One autocommit connection of an engine, for one greenlet at a time;
    a broken one is replaced at the next statement."""

    def __init__(self, engine):
        self.engine = engine
        self.lock = threading.Lock()
        self.connection = None

    def execute(self, statement, params):
        with self.lock:
            if self.connection is None or self.connection.invalidated:
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            self.connection.execute(statement, params)


def _autocommitted(registry, engine):
    found = registry.get(_AUTOCOMMITTED)
    if found is None:
        found = registry[_AUTOCOMMITTED] = _Autocommitted(engine)
    return found


_AUTOCOMMITTED = "consultroom.db.autocommitted"


def _dbsession(request):
    session = request_session(request.registry["dbmaker"], request.tm)
    # Only the request's organisation's rows, even where a query forgets it.
    follow_request(session, request)
    for instance in request.__dict__.pop(_ADD_WHEN_OPENED, ()):
        _join(session, instance)
    return session


_ADD_WHEN_OPENED = "consultroom.db.add_when_opened"


def add_when_opened(request, instance):
    """``instance``, a row's object made without a query from its loaded
    column values (transient: e.g. from a cache; its model made ready with
    :func:`copies_join_sessions`), in ``request.dbsession``: at once if the
    request has made its session, else as soon as it does.

    Until then it holds only the values it was made with: it becomes the
    row's (:func:`make_transient_to_detached`) when it joins, or when it is
    first changed, so that the change is the row's. Reading another of its
    attributes (a deferred column, a relationship) before it joins is an
    error. A request that never uses the database pays for neither: the
    login page, served from its cache, spent a quarter of its time putting
    its organisation in a session, and a tenth making it the row's."""
    session = request.__dict__.get("dbsession")
    if session is None:
        _COPIES.add(instance)
        request.__dict__.setdefault(_ADD_WHEN_OPENED, []).append(instance)
        return instance
    return _join(session, instance)


class NotYetJoined(Exception):
    """An attribute a copy was not made with, read before it joined a session."""


# Objects given to add_when_opened that are not their row's yet.
_COPIES = weakref.WeakSet()


def copies_join_sessions(model):
    """Make ``model``'s objects ready for :func:`add_when_opened` (once, for
    the class): a change to a copy makes it its row's first, and reading
    what it was not made with raises :class:`NotYetJoined`."""
    for attribute in inspect(model).attrs:
        instrumented = getattr(model, attribute.key)
        event.listen(instrumented, "set", _becomes_the_rows)
        event.listen(instrumented, "init_scalar", _refuse_unloaded)
        if getattr(attribute, "uselist", False):
            for name in ("append", "remove", "bulk_replace"):
                event.listen(instrumented, name, _becomes_the_rows)
            event.listen(instrumented, "init_collection", _refuse_unloaded)


def _becomes_the_rows(target, *args):
    if target in _COPIES:
        _COPIES.discard(target)
        make_transient_to_detached(target)


def _refuse_unloaded(target, *args):
    if target in _COPIES:
        raise NotYetJoined(
            f"{type(target).__name__} read before the request's database session "
            "was made: open request.dbsession first"
        )


def _join(session, instance):
    _COPIES.discard(instance)
    state = inspect(instance)
    if state.key is None:  # not changed before
        make_transient_to_detached(instance)
    if state.key in session.identity_map:  # read before, by a query
        return session.merge(instance, load=False)
    session.add(instance)
    return instance


def _sqlite_lock_is_retryable():
    """SQLite (development, tests) refuses a transaction that read and then
    wants to write while another connection commits ("database is locked"),
    without waiting. Let pyramid_retry replay the request then, as it does
    for a PostgreSQL serialization failure."""
    from zope.sqlalchemy import datamanager

    entry = (sqlite3.OperationalError, lambda e: "database is locked" in str(e))
    if all(kind is not sqlite3.OperationalError for kind, _test in datamanager._retryable_errors):
        datamanager._retryable_errors.append(entry)


RETRY_FIRST_PAUSE = 0.005  # seconds, at most, before a request's second attempt
RETRY_LONGEST_PAUSE = 0.25


def pause_before_retry(before_retry):
    """Wait a little before a refused request runs again: up to
    ``RETRY_FIRST_PAUSE``, doubled at each further attempt, at most
    ``RETRY_LONGEST_PAUSE``, and a random part of that ("full jitter").

    At once, the attempts of a request fell in the same write as the first
    (SQLite refuses without waiting while another process commits; a
    loaded machine can leave that process off the CPU for longer than all
    the attempts took), and requests that collided collided again. The
    pause yields to other greenlets under gevent."""
    attempt = before_retry.environ["retry.attempt"]  # the refused one, from 0
    longest = min(RETRY_LONGEST_PAUSE, RETRY_FIRST_PAUSE * 2**attempt)
    time.sleep(random.uniform(0, longest))  # nosec B311: timing, not a secret


def _one_transaction_logger():
    """Every transaction logs to the one logger "txn".

    ``transaction`` gives each thread a logger of its own, named after the
    thread's ident (``_makeLogger``); under gevent the ident is the current
    greenlet's, so every greenlet that runs a transaction (each HTTP
    request, each websocket, each heartbeat's marking) adds a logger that
    the logging module keeps for the life of the process: about 0.6 KiB
    each, never freed. The package's module-level ``_LOGGER`` is its hook
    for one logger instead (private: tests/test_realtime_footprint checks
    that no per-greenlet logger is made, so a release that drops the hook
    is noticed)."""
    from transaction import _transaction

    _transaction._LOGGER = logging.getLogger("txn")


def in_request_transaction(request):
    """pyramid_tm's activate hook: every request runs in one transaction,
    except a websocket, which lives for hours. Holding a transaction (and a
    pooled connection) that long would starve the pool, so the websocket
    opens one short transaction per message itself (consultroom.realtime)."""
    return "wsgi.websocket" not in request.environ


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    settings["tm.activate_hook"] = in_request_transaction
    _sqlite_lock_is_retryable()
    _one_transaction_logger()
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    config.add_subscriber(pause_before_retry, IBeforeRetry)
    if "dbmaker" not in config.registry:
        config.registry["dbmaker"] = make_session_factory(make_engine(settings))
    config.add_request_method(_dbsession, "dbsession", reify=True)
