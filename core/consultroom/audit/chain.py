"""The hash chain: linking recorded entries into their organisation's
chain, and checking every chain from its first entry to its head.

An entry's hash is SHA-256 over a canonical JSON serialisation of its
columns and the previous entry's hash. Changing a row breaks its own hash;
removing or inserting one breaks the sequence numbers and the link of the
entry after it; removing the last ones no longer matches the chain's head.
Whoever can write to the database can also recompute every hash after a
change: ``verify`` then compares the entries with hashes recorded outside
the database (see ``consultroom.audit.anchor``).

``record`` (``consultroom.audit``) only inserts a pending row in the
request's transaction, which takes no lock. Once that transaction commits,
the process's chainer (``Chainer``) links the organisation's pending rows in
a short transaction of its own, holding the chain head's row lock: the
chainers of several processes line up there, and whoever comes second
usually finds its rows linked already. Rows a chainer could not link (the
database went away between the commit and the linking) wait for the next
round of that organisation or the worker, which links every leftover each
round.
"""

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

from sqlalchemy import Integer, bindparam, column, delete, func, insert, select, table, update
from sqlalchemy.exc import SQLAlchemyError

from consultroom.audit.models import (
    ACTION,
    CONSOLE_CHAIN,
    ENTRY_DEFAULTS,
    GENESIS,
    OBJECT_TYPE,
    RECORDED,
    USER,
    AuditChain,
    AuditEntry,
    AuditFacet,
    AuditPending,
)
from consultroom.db import upsert, upsert_for
from consultroom.db.scope import all_organisations

BATCH = 500  # entries linked in one transaction
CHAIN, ENTRY, FACET, PENDING = (
    model.__table__ for model in (AuditChain, AuditEntry, AuditFacet, AuditPending)
)

log = logging.getLogger(__name__)

HASHED = (
    "organisation_id",
    "seq",
    "at",
    "user_id",
    "user_name",
    "support_user_id",
    "support_user_name",
    "action",
    "object_type",
    "object_id",
    "address",
    "detail",
    "prev_hash",
)


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(entry):
    fields = {name: getattr(entry, name) for name in HASHED}
    fields["at"] = entry.at.isoformat(timespec="microseconds")
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


# The chainer's statements, built once: it runs after every request that
# records an entry, and building each statement and its cache key cost
# about as much as running it. What differs is in the parameters.
_HEAD = (
    select(CHAIN.c.length, CHAIN.c.head_hash)
    .where(CHAIN.c.organisation_id == bindparam("organisation"))
    .with_for_update()
)
_PENDING_FIRST = (
    select(PENDING)
    .where(PENDING.c.organisation_id == bindparam("organisation"))
    .order_by(PENDING.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_LINK = insert(ENTRY)
_LINKED = delete(PENDING).where(PENDING.c.id.in_(bindparam("ids", expanding=True)))
_ADVANCE = (
    update(CHAIN)
    .where(CHAIN.c.organisation_id == bindparam("organisation"))
    .values(length=bindparam("new_length"), head_hash=bindparam("new_head"))
)


def _locked_chain(dbsession, organisation_id):
    """The organisation's chain head ``(length, head_hash)``, created if
    new, locked until commit.

    On PostgreSQL, ``FOR UPDATE`` makes a concurrent chainer wait here and
    then read the head as the first one committed it (and, READ COMMITTED,
    the pending rows as it left them); SQLite has one writer at a time. The
    head exists but for an organisation's first entry: only then is it
    inserted (a conflict meaning that another chainer just did)."""
    connection = dbsession.connection()
    which = {"organisation": organisation_id}
    head = connection.execute(_HEAD, which).one_or_none()
    if head is None:
        connection.execute(
            upsert(dbsession, CHAIN)
            .values(organisation_id=organisation_id, length=0, head_hash=GENESIS)
            .on_conflict_do_nothing()
        )
        head = connection.execute(_HEAD, which).one()
    return head


def link_pending(dbsession, organisation_id, limit=BATCH):
    """Link up to ``limit`` of the organisation's pending entries into its
    chain, in the order they were inserted; how many. The caller commits,
    which releases the chain's lock.

    In SQL statements on the session's connection, not through the ORM's
    unit of work: the chainer runs after every request that records an
    entry, and the ORM's bookkeeping of these rows cost more than the
    statements themselves."""
    length, head_hash = _locked_chain(dbsession, organisation_id)
    connection = dbsession.connection()
    pending = connection.execute(
        _PENDING_FIRST, {"organisation": organisation_id, "limit": limit}
    ).all()
    if not pending:
        return 0
    entries = []
    for row in pending:
        length += 1
        entry = {**ENTRY_DEFAULTS, **{name: getattr(row, name) for name in RECORDED}}
        entry.update(seq=length, prev_hash=head_hash)
        entry["hash"] = head_hash = entry_hash(SimpleNamespace(**entry))
        entries.append(entry)
    connection.execute(_LINK, entries)
    connection.execute(_LINKED, {"ids": [row.id for row in pending]})
    connection.execute(
        _ADVANCE, {"organisation": organisation_id, "new_length": length, "new_head": head_hash}
    )
    _note_facets(dbsession, organisation_id, entries)
    return len(pending)


def _note_facets(dbsession, organisation_id, entries):
    """Add the actions, object types and users of ``entries`` to the
    organisation's facets; a user's label is the name of their latest entry."""
    facets = {}
    for entry in entries:
        facets[ACTION, entry["action"]] = entry["action"]
        if entry["object_type"] is not None:
            facets[OBJECT_TYPE, entry["object_type"]] = entry["object_type"]
        if entry["user_id"] is not None:
            facets[USER, str(entry["user_id"])] = entry["user_name"]
    # The rows as parameters, not in the statement: a statement with its
    # values in it has no cache key, and was compiled again at every link.
    dbsession.connection().execute(
        _facets_upsert(dbsession.get_bind().dialect.name),
        [
            {"organisation_id": organisation_id, "kind": kind, "value": value, "label": label}
            for (kind, value), label in facets.items()
        ],
    )


@cache  # one per database kind
def _facets_upsert(dialect):
    insert_facets = upsert_for(dialect, FACET)
    return insert_facets.on_conflict_do_update(
        index_elements=["organisation_id", "kind", "value"],
        set_={"label": insert_facets.excluded.label},
        where=FACET.c.label != insert_facets.excluded.label,
    )


def link_all(dbmaker, organisation_ids=None):
    """Link every pending entry of these organisations (None: of every
    organisation that has any), each batch in a transaction of its own on a
    session of ``dbmaker``; how many."""
    linked = 0
    with dbmaker() as dbsession:
        if organisation_ids is None:
            with dbsession.begin():
                organisation_ids = dbsession.scalars(
                    select(AuditPending.organisation_id).distinct()
                ).all()
        for organisation_id in sorted(organisation_ids):  # one lock order
            done = BATCH
            while done == BATCH:
                with dbsession.begin():
                    done = link_pending(dbsession, organisation_id)
                linked += done
    return linked


class Chainer:
    """Links the pending entries of this process's requests.

    In the background (the default), one thread (a greenlet in the gevent
    servers) per process does it: a request's commit only wakes it, so the
    request does not wait for the chain lock, and the entries recorded
    meanwhile, by any number of requests, are linked in one transaction.
    ``background=False`` links in the committing request, after its commit
    (the tests, whose requests share one database connection)."""

    def __init__(self, dbmaker, background=True):
        self.dbmaker = dbmaker
        self.background = background
        self._waiting = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None

    def link_after_commit(self, transaction, organisation_id):
        """Have the organisation's pending entries linked once
        ``transaction`` commits."""
        try:
            organisation_ids = transaction.data(self)
        except KeyError:
            organisation_ids = set()
            transaction.set_data(self, organisation_ids)
            transaction.addAfterCommitHook(self._committed, (organisation_ids,))
        organisation_ids.add(organisation_id)

    def _committed(self, committed, organisation_ids):
        if not committed:
            return  # the pending rows went with the transaction
        if not self.background:
            self._link(organisation_ids)
            return
        with self._lock:
            self._waiting |= organisation_ids
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-chainer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                organisation_ids, self._waiting = self._waiting, set()
            self._link(organisation_ids)

    def _link(self, organisation_ids):
        try:
            link_all(self.dbmaker, organisation_ids)
        except SQLAlchemyError:
            # The requests' work is committed; their entries are safe in
            # audit_pending and the next round or the worker links them.
            log.exception("could not link audit entries of %s now", sorted(organisation_ids))


# ---- verification


@dataclass
class Result:
    chains: int = 0
    entries: int = 0
    problem: str | None = None
    # Recorded, committed, not linked yet: not part of any chain, so not
    # checked, and no sign of tampering (the chainer or the worker links them).
    pending: int = 0


@dataclass(frozen=True)
class Mark:
    """An entry's hash as recorded outside the database, and where."""

    hash: str
    source: str


class _Broken(Exception):
    pass


def _where(entry, names):
    return f"entry {entry.id} (seq {entry.seq}, {names(entry.organisation_id)})"


class _ChainCheck:
    """Walks one organisation's entries in order."""

    def __init__(self, organisation_id, head, names, marks):
        self.organisation_id, self.head, self.names = organisation_id, head, names
        self.marks = marks  # shared by every chain: each one takes out its own
        self.previous = None

    def add(self, entry):
        expected_seq = self.previous.seq + 1 if self.previous else 1
        expected_prev = self.previous.hash if self.previous else GENESIS
        where = _where(entry, self.names)
        if entry_hash(entry) != entry.hash:
            raise _Broken(f"{where}: its contents do not match its hash: the row was edited")
        if entry.seq != expected_seq or entry.prev_hash != expected_prev:
            after = (
                f"entry {self.previous.id} (seq {self.previous.seq})"
                if self.previous
                else "the start of the chain"
            )
            raise _Broken(
                f"{where} does not follow {after}: an entry between them was"
                " deleted or inserted, or one of them was edited"
            )
        mark = self.marks.pop((entry.organisation_id, entry.seq), None)
        if mark is not None and mark.hash != entry.hash:
            # Each hash covers every entry before it: a change anywhere up
            # to here, even with the later hashes recomputed, shows here.
            raise _Broken(
                f"{where}: its hash is not the one {mark.source} recorded: this"
                " entry or one before it was changed and the chain recomputed"
            )
        self.previous = entry

    def finish(self):
        length = self.previous.seq if self.previous else 0
        last_hash = self.previous.hash if self.previous else GENESIS
        if self.head is None:
            raise _Broken(
                f"{self.names(self.organisation_id)}: entries without a chain head:"
                " they were inserted"
            )
        if (self.head.length, self.head.head_hash) != (length, last_hash):
            last = _where(self.previous, self.names) if self.previous else "no entries"
            raise _Broken(
                f"{self.names(self.organisation_id)}: the chain head records"
                f" {self.head.length} entries but ends at {last}: entries at the"
                " end were deleted (or the head was changed)"
            )


# By its table's name: the audit trail sits below the features (tenancy owns
# the model), and outlives the organisations it names.
ORGANISATIONS = table("organisation", column("id"), column("subdomain"))


def _namer(dbsession):
    subdomains = dict(
        dbsession.execute(select(ORGANISATIONS.c.id, ORGANISATIONS.c.subdomain)).all()
    )

    def name(organisation_id):
        if organisation_id == CONSOLE_CHAIN:
            return "the console"
        return f"organisation {organisation_id} ({subdomains.get(organisation_id, 'deleted')})"

    return name


def _missing(marks, names):
    """Recorded entries the walk did not meet: the database no longer has them."""
    if marks:
        (organisation_id, seq), mark = min(marks.items())
        raise _Broken(
            f"{names(organisation_id)}: {mark.source} recorded seq {seq}, which the"
            " database no longer has: entries were deleted (and the chain head"
            " changed)"
        )


def verify(dbsession, marks=None):
    """Check every chain, and its entries against ``marks``, Marks by
    ``(organisation_id, seq)``; the Result names the first broken row, if any."""
    # The hosting provider checks every organisation's trail at once.
    with all_organisations(dbsession):
        return _verify_every_chain(dbsession, marks)


@dataclass(frozen=True)
class _Head:
    length: int
    head_hash: str


def _verify_every_chain(dbsession, marks):
    names = _namer(dbsession)
    marks = dict(marks or {})
    heads = {  # for the chains without entries
        organisation_id: _Head(length, head_hash)
        for organisation_id, length, head_hash in dbsession.execute(
            select(AuditChain.organisation_id, AuditChain.length, AuditChain.head_hash)
        )
    }
    result = Result()
    check = None
    # Each entry with its chain's head, read in one statement: one snapshot,
    # even while chainers commit (on PostgreSQL, READ COMMITTED gives each
    # statement its own), so that a chain linked further meanwhile does not
    # look like one whose last entries were deleted.
    rows = dbsession.execute(
        select(AuditEntry, AuditChain.length, AuditChain.head_hash)
        .outerjoin(AuditChain, AuditChain.organisation_id == AuditEntry.organisation_id)
        .order_by(AuditEntry.organisation_id, AuditEntry.seq, AuditEntry.id)
        # populate_existing: the rows as stored, not as this session last saw them.
        .execution_options(yield_per=1000, populate_existing=True)
    )
    try:
        for entry, length, head_hash in rows:
            if check is None or entry.organisation_id != check.organisation_id:
                if check is not None:
                    check.finish()
                heads.pop(entry.organisation_id, None)
                head = _Head(length, head_hash) if length is not None else None
                check = _ChainCheck(entry.organisation_id, head, names, marks)
                result.chains += 1
            check.add(entry)
            result.entries += 1
        if check is not None:
            check.finish()
        for organisation_id, head in sorted(heads.items()):  # chains left without entries
            _ChainCheck(organisation_id, head, names, marks).finish()
        _missing(marks, names)
    except _Broken as broken:
        result.problem = str(broken)
    result.pending = dbsession.scalar(select(func.count()).select_from(AuditPending))
    return result
