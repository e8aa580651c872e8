"""Values written as text by the database, for answers that copy them as
they are (the API's lists): formatting a time in Python costs more than
reading its row.

``utc_text(moment)`` is a naive UTC timestamp column (or ``moment`` plus
``minutes``, a column of whole minutes) as ``2031-03-04T09:00:00Z``, to the
second: what ``datetime.isoformat(timespec="seconds") + "Z"`` writes.
"""

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_text(FunctionElement):  # noqa: N801 (an SQL function's name)
    type = String()
    name = "utc_text"
    inherit_cache = True

    def __init__(self, moment, minutes=None):
        super().__init__(*((moment,) if minutes is None else (moment, minutes)))


def _arguments(element, compiler, **kw):
    return [compiler.process(argument, **kw) for argument in element.clauses]


@compiles(utc_text, "postgresql")
def _postgresql(element, compiler, **kw):
    moment, *minutes = _arguments(element, compiler, **kw)
    if minutes:
        moment = f"({moment} + {minutes[0]} * interval '1 minute')"
    return f"""to_char({moment}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


@compiles(utc_text, "sqlite")
def _sqlite(element, compiler, **kw):
    moment, *minutes = _arguments(element, compiler, **kw)
    shift = f", '+' || {minutes[0]} || ' minutes'" if minutes else ""
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; cut to the second
    # first, as SQLite's arithmetic rounds to the millisecond (59.9999 s
    # would become the next minute).
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', substr({moment}, 1, 19){shift})"
