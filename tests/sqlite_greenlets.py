"""Greenlets of one gevent process sharing a SQLite database through
consultroom.db (tests/test_db_sqlite.py runs this in a process of its own,
patched as the servers are): ``python sqlite_greenlets.py FOLDER`` runs
each scenario on a database of its own there and prints what happened in
each, as JSON."""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from consultroom.db import make_engine, sqlite  # noqa: E402

PAUSE = 0.3  # a transaction waiting on something else (a Redis call)
TICK = 0.01
BUSY_SECONDS = sqlite.BUSY_SECONDS
SCENARIOS = ("reader", "writers", "too long", "nested", "invalidated")


def run(scenario, path):
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
    started = time.monotonic()
    events = []
    ticks = []

    def at(what):
        events.append([what, round(time.monotonic() - started, 3)])

    def ticker():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(TICK)

    def paused(first, name):
        """A transaction that runs ``first``, then waits, then commits."""
        with engine.begin() as connection:
            connection.execute(text(first))
            at(f"{name} paused")
            gevent.sleep(PAUSE)
        at(f"{name} committed")

    def write(name, after=0.05):
        gevent.sleep(after)
        try:
            with engine.begin() as connection:
                connection.execute(text(f"INSERT INTO notes VALUES ('{name}')"))
            at(f"{name} committed")
        except OperationalError as error:
            at(f"{name} refused: {error.orig}")

    def nested():
        """A second transaction inside the first, in one greenlet (a
        request's, and a session of its own): it does not wait for the
        first to end."""
        with engine.begin() as outer:
            outer.execute(text("INSERT INTO notes VALUES ('outer')"))
            with engine.begin() as inner:
                inner.execute(text("SELECT * FROM notes"))
            at("inner ended")
        at("outer committed")

    def invalidated():
        connection = engine.connect()
        connection.begin()
        connection.execute(text("INSERT INTO notes VALUES ('lost')"))
        connection.invalidate()
        at("invalidated")

    plans = {
        "reader": [lambda: paused("SELECT * FROM notes", "reader"), lambda: write("writer")],
        "writers": [
            lambda: paused("INSERT INTO notes VALUES ('first')", "first"),
            lambda: write("second"),
        ],
        "too long": [
            lambda: paused("INSERT INTO notes VALUES ('first')", "first"),
            lambda: write("second"),
            lambda: write("third", after=PAUSE + 0.1),
        ],
        "nested": [nested, lambda: write("writer")],
        "invalidated": [invalidated, lambda: write("writer")],
    }
    sqlite.BUSY_SECONDS = PAUSE / 3 if scenario == "too long" else BUSY_SECONDS
    beating = gevent.spawn(ticker)
    gevent.joinall([gevent.spawn(plan) for plan in plans[scenario]], raise_error=True)
    beating.kill()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT text FROM notes")).scalars().all()
    engine.dispose()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    return {"events": events, "rows": rows, "longest_gap": max(gaps)}


if __name__ == "__main__":
    folder = sys.argv[1]
    print(json.dumps({name: run(name, f"{folder}/{n}.sqlite") for n, name in enumerate(SCENARIOS)}))
