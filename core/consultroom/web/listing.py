"""What every list page needs: a search box's words matched against columns,
one page of a query at a time, and the CSV export of what is listed.

Nothing here knows what is listed; what a search looks at is the feature's
choice (``consultroom.clients.search`` for clients)."""

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, or_, select

PAGE_SIZE = 25
# A spreadsheet runs a cell starting with one of these as a formula
# (OWASP "CSV injection"); a leading quote makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def search_words(text):
    """The words of a search box; NUL dropped (PostgreSQL refuses it)."""
    return (text or "").replace("\x00", "").split()


def search(query, columns, text):
    """Every word must occur, in any case, in one of ``columns``."""
    for word in search_words(text):
        query = query.where(or_(*(c.icontains(word, autoescape=True) for c in columns)))
    return query


@dataclass
class Page:
    """One page of a list, as the theme's pager macro (``_pager.html``) reads it."""

    items: list
    number: int
    count: int  # pages in all
    total: int  # items in all


def page_number(request):
    """The ``page`` parameter, 1 when missing or nonsense."""
    raw = request.params.get("page", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 and int(raw) else 1


def paginate(dbsession, query, number, size=PAGE_SIZE):
    """One page of ``query``; a number past the end shows the last page."""
    total = dbsession.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    count = max(1, -(-total // size))
    number = min(number, count)
    items = dbsession.scalars(query.limit(size).offset((number - 1) * size)).unique().all()
    return Page(items, number, count, total)


def safe_cell(value):
    """``value`` as the text of a CSV cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header, rows):
    """UTF-8 with a byte-order mark, so that Excel reads accents right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")
