"""Keyset pagination of the API's lists: a page ends with ``next_cursor``,
which the caller sends back as ``cursor`` for the next page. A page then
costs the same at the end of a long list as at its start (no OFFSET that
reads and skips every row before it), and the total is counted only when
the caller asks for it (``total=true``).

The cursor is opaque to the caller: URL-safe base64 of a small JSON array
naming the list, the organisation, a digest of the filters and the sort key
of the page's last row. Every part is validated when it comes back: a
cursor that is not one of ours, or one from another list, organisation or
set of filters, is refused with a 400 that says so, never a server error.
Its sort key only says where to continue: every query is still scoped to
what the caller may see, so an edited cursor shows nothing new.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, tuple_

from consultroom.api.errors import ApiError
from consultroom.api.schemas import MAX_ID
from consultroom.audit import record
from consultroom.i18n import _

# Far longer than any cursor we hand out.
MAX_CURSOR = 500
VERSION = 1


@dataclass(frozen=True)
class Keyset:
    """How one list is sorted: its name and the columns of its sort key,
    the last of them unique (the id)."""

    name: str
    columns: tuple

    def key(self, row):
        return [_plain(getattr(row, column.key)) for column in self.columns]


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(value, column):
    """A sort key value from a cursor as its column's type; ValueError if it is not one."""
    kind = column.type.python_type
    if kind is int:
        if type(value) is not int or not 0 < value <= MAX_ID:
            raise ValueError(value)
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(value)
    value.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:  # the database's times are naive UTC
            raise ValueError(value)
        return moment
    return value


def _digest(filters):
    """A short digest of the list's filters (what the cursor's page was of)."""
    canonical = json.dumps(sorted(filters.items()), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(keyset, organisation_id, filters, row):
    payload = [VERSION, keyset.name, organisation_id, _digest(filters), keyset.key(row)]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _malformed():
    return ApiError(400, _("The cursor is not valid: use the next_cursor of the previous page."))


def decode(keyset, organisation_id, filters, cursor):
    """The sort key to continue after; ApiError 400 for a cursor that is not
    valid or not of this list, organisation and filters."""
    if len(cursor) > MAX_CURSOR:
        raise _malformed()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, name, org, digest, key = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise _malformed() from None
    if version != VERSION:
        raise _malformed()
    if (name, org, digest) != (keyset.name, organisation_id, _digest(filters)):
        raise ApiError(
            400,
            _(
                "This cursor belongs to another list or other filters: start again"
                " without a cursor."
            ),
        )
    try:
        if len(key) != len(keyset.columns):
            raise ValueError(key)
        values = [_typed(v, c) for v, c in zip(key, keyset.columns, strict=True)]
    except (ValueError, TypeError):
        raise _malformed() from None
    return values


def objects(dbsession, query):
    return dbsession.scalars(query).all()


def plain_rows(dbsession, query):
    return dbsession.execute(query).all()


def keyset_page(request, query, paging, keyset, filters, dump, object_type, fetch=objects):
    """One page of ``query`` (already ordered by ``keyset``'s columns) as the
    list's JSON body; ``filters`` are the query parameters that chose the
    rows, ``dump(request, rows)`` the JSON of the page's rows, ``fetch``
    reads them: ORM objects (``objects``) or, for a select of columns,
    ``plain_rows``."""
    organisation_id = request.organisation.id
    whole = query
    if paging.cursor is not None:
        after = decode(keyset, organisation_id, filters, paging.cursor)
        pairs = zip(after, keyset.columns, strict=True)
        bound = (bindparam(None, value, type_=column.type) for value, column in pairs)
        query = query.where(tuple_(*keyset.columns) > tuple_(*bound))
    rows = fetch(request.dbsession, query.limit(paging.limit + 1))
    more, rows = len(rows) > paging.limit, rows[: paging.limit]
    record(request, f"{object_type}.list", object_type, ids=[row.id for row in rows], via="api")
    body = {
        "items": dump(request, rows),
        "limit": paging.limit,
        "next_cursor": encode(keyset, organisation_id, filters, rows[-1]) if more else None,
    }
    if paging.total:
        body["total"] = request.dbsession.scalar(
            select(func.count()).select_from(whole.order_by(None).subquery())
        )
    return body
