"""SQLite engines (development, tests): real transactions, and, in a gevent
process, waits for another greenlet's transaction that let the rest of the
process run.

SQLite waits for a lock in C (``busy_timeout``), and under gevent that
wait stops every greenlet of the process. When the lock's holder is
another greenlet of the same process, paused in its transaction (on a
Redis call, a bus acknowledgement), it cannot go on until the wait gives
up: the whole process stood still for the busy timeout, and the waiting
transaction failed. So in a gevent process one greenlet at a time has a
transaction open: the others wait for it at their BEGIN, and run their
own (and everything else) meanwhile. SQLite's own wait is left for
transactions of other processes, which go on while this one waits.
"""

import sqlite3

import gevent.lock
from gevent import monkey
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

BUSY_SECONDS = 5.0  # how long a transaction waits for another's lock


def set_up(engine):
    """Give pysqlite real transactions and savepoints, enforce foreign keys,
    overwrite what is deleted, and, under gevent, open one greenlet's
    transactions at a time.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT;
    the SQLAlchemy documentation recommends emitting BEGIN ourselves.
    """
    lock = _TransactionLock() if monkey.is_module_patched("threading") else None

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        # What is deleted (an anonymised appointment, an erased client) is
        # overwritten in the file, not left in free pages. Debian builds
        # SQLite so by default; python.org's and Homebrew's builds do not.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        if lock is not None:
            lock.take(connection.connection.dbapi_connection)
        connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine.pool, "checkin")
    def _end_a_refused_commit(dbapi_connection, _record):
        # A COMMIT that SQLite refuses ("database is locked": a reader still
        # holds the file) leaves the transaction open, but SQLAlchemy counts
        # it as ended and returns the connection unreset: the pool handed it
        # out mid-transaction (the next BEGIN failed) while its write lock
        # kept every other writer out.
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            dbapi_connection.rollback()

    if lock is None:
        return
    # Before the DBAPI's COMMIT or ROLLBACK, which do not yield: no other
    # greenlet begins in between.
    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda c: lock.give_back(c.connection.dbapi_connection))
    # However a connection's use or life ends, it lets go (after the
    # rollback above, on a checkin).
    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(engine.pool, name, lambda dbapi, *_: lock.give_back(dbapi))


class _TransactionLock:
    """The greenlet whose connections have a transaction open, of one
    engine in this process. The holder may open another (a session of its
    own inside a request's) without waiting for itself."""

    def __init__(self):
        # gevent's: the standard library's, patched, yields even when free
        # (where another greenlet's transaction could begin and end).
        self._semaphore = gevent.lock.Semaphore(1)
        self._holder = None
        self._open = set()  # the holder's connections in a transaction

    def take(self, dbapi_connection):
        current = gevent.getcurrent()
        if self._holder is not current:
            if not self._semaphore.acquire(timeout=BUSY_SECONDS):
                # What SQLite says when its own wait gives up (as SQLAlchemy
                # hands it on): retried like it.
                refused = sqlite3.OperationalError("database is locked")
                raise OperationalError("BEGIN", None, refused)
            self._holder = current
        self._open.add(dbapi_connection)

    def give_back(self, dbapi_connection):
        if dbapi_connection not in self._open:
            return
        self._open.discard(dbapi_connection)
        if not self._open:
            self._holder = None
            self._semaphore.release()
