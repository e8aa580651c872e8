"""The hash chain: appending entries to an organisation's chain, and
checking every chain from its first entry to its head.

An entry's hash is SHA-256 over a canonical JSON serialisation of its
columns and the previous entry's hash. Changing a row breaks its own hash;
removing or inserting one breaks the sequence numbers and the link of the
entry after it; removing the last ones no longer matches the chain's head.
Whoever can write to the database can also recompute every hash after a
change: ``verify`` then compares the entries with hashes recorded outside
the database (see ``consultroom.audit.anchor``).
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import column, select, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from consultroom.audit.models import CONSOLE_CHAIN, GENESIS, AuditChain, AuditEntry
from consultroom.db.scope import all_organisations

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


def _insert_ignoring_duplicates(dbsession):
    dialect = dbsession.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(AuditChain)


def _locked_chain(dbsession, organisation_id):
    """The organisation's chain head, created if new, locked until commit.

    On PostgreSQL, ``FOR UPDATE`` makes a concurrent writer wait here and
    then read the head as the first one committed it; SQLite has one writer
    at a time anyway."""
    dbsession.execute(
        _insert_ignoring_duplicates(dbsession)
        .values(organisation_id=organisation_id, length=0, head_hash=GENESIS)
        .on_conflict_do_nothing()
    )
    return dbsession.scalars(
        select(AuditChain)
        .where(AuditChain.organisation_id == organisation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def append(dbsession, entries):
    """Link ``entries`` (complete but for seq and hashes) into their chains."""
    for organisation_id in sorted({e.organisation_id for e in entries}):  # one lock order
        chain = _locked_chain(dbsession, organisation_id)
        for entry in (e for e in entries if e.organisation_id == organisation_id):
            chain.length += 1
            entry.seq, entry.prev_hash = chain.length, chain.head_hash
            entry.hash = chain.head_hash = entry_hash(entry)
            dbsession.add(entry)
    dbsession.flush()


# ---- verification


@dataclass
class Result:
    chains: int = 0
    entries: int = 0
    problem: str | None = None


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


def _verify_every_chain(dbsession, marks):
    names = _namer(dbsession)
    marks = dict(marks or {})
    heads = {
        c.organisation_id: c
        for c in dbsession.scalars(select(AuditChain).execution_options(populate_existing=True))
    }
    result = Result()
    check = None
    entries = dbsession.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.organisation_id, AuditEntry.seq, AuditEntry.id)
        # populate_existing: the rows as stored, not as this session last saw them.
        .execution_options(yield_per=1000, populate_existing=True)
    )
    try:
        for entry in entries:
            if check is None or entry.organisation_id != check.organisation_id:
                if check is not None:
                    check.finish()
                check = _ChainCheck(
                    entry.organisation_id, heads.pop(entry.organisation_id, None), names, marks
                )
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
    return result
