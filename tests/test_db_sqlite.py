"""consultroom.db's SQLite engines: each pooled connection handed out
outside any transaction, whatever ended the last one; and in a gevent
process, a transaction paused on something else (a Redis call) stops no
other greenlet: one waiting for it waits in gevent, not in SQLite
(tests/sqlite_greenlets.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from consultroom.db import make_engine

pytestmark = pytest.mark.sqlite_only

GREENLETS = Path(__file__).with_name("sqlite_greenlets.py")


@pytest.fixture
def engine(tmp_path):
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'busy.sqlite'}"})
    # After make_engine's 5 s, which the refused commit below would wait.
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=0"))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
    yield engine
    engine.dispose()


def _refused_commit(engine):
    """A write whose COMMIT SQLite refuses: another connection is reading."""
    with engine.connect() as reader, reader.begin():
        reader.execute(text("SELECT * FROM notes")).all()
        writer = engine.connect()
        writer.execute(text("INSERT INTO notes VALUES ('lost')"))
        with pytest.raises(OperationalError, match="database is locked"):
            writer.commit()
        writer.close()


def test_a_refused_commit_leaves_no_transaction_on_the_pooled_connection(engine):
    _refused_commit(engine)
    pooled = engine.pool.checkedin()  # the reader's and the writer's
    assert pooled == 2
    held = [engine.connect() for _ in range(pooled)]  # each of them, in turn
    for connection in held:
        with connection.begin():
            connection.execute(text("INSERT INTO notes VALUES ('kept')"))
        connection.close()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM notes")).scalars().all() == ["kept"] * 2


def test_what_is_deleted_is_overwritten_in_the_file_whatever_the_build(tmp_path):
    path = tmp_path / "erased.sqlite"
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    # As SQLite is built elsewhere (python.org, Homebrew); Debian's builds
    # overwrite by default. Before make_engine's own set-up.
    event.listen(
        engine, "connect", lambda dbapi, _r: dbapi.execute("PRAGMA secure_delete=OFF"), insert=True
    )
    secret = "Erased-Client-0123456789"
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (text TEXT)")
        connection.execute(text("INSERT INTO notes VALUES (:t)"), {"t": secret * 20})
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM notes")
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()
    assert secret.encode() not in path.read_bytes()


@pytest.fixture(scope="module")
def greenlets(tmp_path_factory):
    """What happened in each scenario (one process for all: its start-up
    takes longer than they do)."""
    done = subprocess.run(
        [sys.executable, GREENLETS, tmp_path_factory.mktemp("greenlets")],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def _order(found):
    return [what for what, _at in found["events"]]


def _never_stood_still(found):
    # The ticking greenlet ran every 10 ms throughout; SQLite's own wait
    # for the lock (in C) stopped it for its whole busy timeout, 5 s.
    assert found["longest_gap"] < 1, found


def test_a_greenlet_writing_waits_for_another_paused_after_reading_and_the_rest_runs(greenlets):
    found = greenlets["reader"]
    assert _order(found) == ["reader paused", "reader committed", "writer committed"]
    assert found["rows"] == ["writer"]
    _never_stood_still(found)


def test_a_greenlet_writing_waits_for_the_paused_writer_and_the_rest_runs_meanwhile(greenlets):
    found = greenlets["writers"]
    assert _order(found) == ["first paused", "first committed", "second committed"]
    assert found["rows"] == ["first", "second"]
    _never_stood_still(found)


def test_a_write_that_waits_too_long_is_refused_as_sqlite_refuses_it_and_the_next_goes_in(
    greenlets,
):
    found = greenlets["too long"]
    assert _order(found) == [
        "first paused",
        "second refused: database is locked",  # retried like SQLite's own refusal
        "first committed",
        "third committed",
    ]
    assert found["rows"] == ["first", "third"]


def test_a_transaction_inside_another_of_the_same_greenlet_does_not_wait_for_it(greenlets):
    found = greenlets["nested"]
    assert _order(found) == ["inner ended", "outer committed", "writer committed"]
    [(_, inner), _outer, _writer] = found["events"]
    assert inner < 1  # not after the lock's 5 s
    assert found["rows"] == ["outer", "writer"]


def test_an_invalidated_connection_lets_go_of_the_lock(greenlets):
    found = greenlets["invalidated"]
    [(_, invalidated), (committed, at)] = found["events"]
    assert committed == "writer committed"
    assert at - invalidated < 1  # not after the lock's 5 s
    assert found["rows"] == ["writer"]
