"""The search box of the client lists (staff pages, the client picker and the
API), answered from an index so that a search costs the same with ten
clients as with ten thousand.

Every word must occur, in any case, in the last name, initials, e-mail
address or client number. How the database finds those clients without
reading every one:

- PostgreSQL: a ``pg_trgm`` GIN index (migration 0009) on the four columns
  in lower case, one space apart (``SEARCH_TEXT``), answers a
  ``LIKE '%word%'`` per word. A word holds no space, so it occurs there
  exactly when it occurs in one of the columns. One index, rather than one
  per column, because the planner prices four index scans ORed together
  above reading the whole table, and then reads every client.
- SQLite: the FTS5 table ``client_search`` (trigram tokenizer, kept in
  step with ``client`` by triggers, migration 0009) finds the rows
  containing each word of three characters or more; ``LIKE`` per column
  (``web.listing.search``) then only checks those rows. Shorter words have
  no trigram and are checked row by row.

The index's tables, triggers and indexes are made by the migration, not by
the models: their names start with ``SEARCH_INDEX`` so that comparing the
models with the database leaves them out (``consultroom.db.migrate``).
A migration that rebuilds the ``client`` table on SQLite (a batch
operation) drops the triggers with it and must create them again.
"""

from sqlalchemy import func, literal, literal_column, select, table

from consultroom.clients.models import SEARCH_INDEX, Client, Participant
from consultroom.web.listing import search, search_words

COLUMNS = (Client.last_name, Client.initials, Client.email, Client.client_number)
PARTICIPANT_COLUMNS = (
    Participant.last_name,
    Participant.initials,
    Participant.email,
    Participant.client_number,
)
# FTS5's trigram tokenizer indexes runs of three characters; a shorter
# phrase matches nothing through the index.
TRIGRAM = 3
_SPACE = literal_column("' '")  # in the statement, as in the index's expression
SEARCH_TEXT = func.lower(
    Client.last_name
    + _SPACE
    + Client.initials
    + _SPACE
    + Client.email
    + _SPACE
    + Client.client_number
)
_FTS = table(SEARCH_INDEX)
_MATCH = literal_column(SEARCH_INDEX).op("MATCH")


def _phrase(word):
    """``word`` as one FTS5 phrase: quoted, its quotes doubled, so that no
    character of it is read as query syntax."""
    return '"' + word.replace('"', '""') + '"'


def _sqlite_candidates(query, text_):
    for word in search_words(text_):
        if len(word) >= TRIGRAM:
            query = query.where(
                Client.id.in_(
                    select(literal_column("rowid")).select_from(_FTS).where(_MATCH(_phrase(word)))
                )
            )
    return query


def _postgresql(query, text_):
    for word in search_words(text_):
        escaped = word.replace("/", "//").replace("%", "/%").replace("_", "/_")
        query = query.where(SEARCH_TEXT.like(func.lower(literal(f"%{escaped}%")), escape="/"))
    return query


def search_clients(dbsession, query, text_):
    """``query`` (a select of clients) narrowed to those matching the search
    box: by name, initials, e-mail address or client number."""
    if dbsession.get_bind().dialect.name == "postgresql":
        return _postgresql(query, text_)
    return search(_sqlite_candidates(query, text_), COLUMNS, text_)


def search_participants(query, text_):
    """``query`` (a select of external participants) narrowed to those
    matching the search box, as for clients. Not indexed: an organisation's
    participants are its clients' family and carers, far fewer than its
    clients."""
    return search(query, PARTICIPANT_COLUMNS, text_)
