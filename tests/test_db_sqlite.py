"""consultroom.db's SQLite transactions: each pooled connection handed out
outside any transaction, whatever ended the last one."""

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from consultroom.db import make_engine

pytestmark = pytest.mark.sqlite_only


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
