"""Times written by the database (consultroom.db.texts) read exactly as
Python writes them, on SQLite and on PostgreSQL."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select

from consultroom.db.texts import utc_text

MOMENTS = [
    datetime(2031, 3, 4, 9, 0),
    datetime(2031, 3, 4, 9, 0, 59, 999999),  # cut to the second, not rounded
    datetime(2032, 2, 28, 23, 45, 0, 1),  # a leap day comes next
    datetime(2031, 12, 31, 23, 59, 59),  # into the next year
    datetime(2001, 1, 1, 0, 0),
]


@pytest.fixture
def moments(db_connection):
    table = Table(
        "texts_test",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime),
        Column("minutes", Integer),
        prefixes=["TEMPORARY"],
    )
    table.create(db_connection)
    db_connection.execute(
        insert(table),
        [{"id": n, "at": at, "minutes": 15 + 7 * n} for n, at in enumerate(MOMENTS)],
    )
    return table


def _python(moment):
    return moment.isoformat(timespec="seconds") + "Z"


def test_a_time_as_python_writes_it(db_connection, moments):
    c = moments.c
    rows = db_connection.execute(
        select(c.at, c.minutes, utc_text(c.at), utc_text(c.at, c.minutes)).order_by(c.id)
    ).all()
    assert [row[2] for row in rows] == [_python(at) for at in MOMENTS]
    assert [row[3] for row in rows] == [
        _python(at + timedelta(minutes=minutes)) for at, minutes, *_ in rows
    ]
