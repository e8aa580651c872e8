"""Per-process caches of the few rows that nearly every request reads and
that rarely change: the organisation a site belongs to, the plugins it has
enabled; and of the rows of a few statements that nearly every page runs
(``ResultCache``: a staff member's unread count).

A cache is emptied whenever one of its tables changes:

* in this process, through any session: on the flush that writes the
  change (so the writing session never reads its own stale copy), again
  after the commit (a request may have cached the old row between flush
  and commit) and after a rollback (it may have cached the new row that
  never was);
* in the other processes, through the notifier the application connects to
  its message bus (:func:`connect_other_processes`);
* and at the latest ``ttl`` seconds after an entry was stored, for a change
  whose message was lost (a Redis restart, a command-line process without
  the bus).

Emptying the whole cache rather than one entry keeps this simple and right
(a renamed subdomain, a plugin enabled by the console): the organisations'
and plugins' tables are written a few times a day, the unread count's (chat
messages, clients) far less often than staff pages are shown.
"""

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, Self, TypeVar, cast

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from consultroom.db.scope import scope_key, tables_in

_PENDING = "consultroom.cache.changed_tables"

Notifier = Callable[[frozenset[str]], None]
V = TypeVar("V")


class RowCache(Generic[V]):
    """A bounded, time-limited mapping emptied when ``tables`` change; ``V``
    is the type of what it holds."""

    @classmethod
    def configured(cls, settings: Mapping[str, Any], tables: Iterable[str]) -> Self:
        """A cache whose entries live ``cache.seconds`` (the setting; 60 by
        default, 0 turns caching off)."""
        return cls(tables, ttl=float(settings.get("cache.seconds", 60)))

    def __init__(self, tables: Iterable[str], ttl: float = 60.0, size: int = 1024) -> None:
        self.tables = frozenset(tables)
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _caches.add(self)

    def get(self, key: Hashable, default: V | None = None) -> V | None:
        # Without the lock, which a page takes several times (gevent's lock
        # is Python code): each OrderedDict call is atomic, and the worst a
        # writer can do between them is evict the entry just read.
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return default
        try:
            self._entries.move_to_end(key)
        except KeyError:
            pass  # evicted or cleared meanwhile: the value read is still the one stored
        return entry[1]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class ResultCache(RowCache[tuple[Any, ...]]):
    """The rows of read statements that nearly every page runs and whose
    tables change far less often than pages are shown (a staff member's
    unread count), kept per statement, parameters and tenancy scope.

    The key is the statement itself: its structure (SQLAlchemy's cache key)
    and the values of its parameters, so whatever decides the rows (a
    user's department, an organisation's segregation option) is in it
    without being listed. A statement is read through the cache only when
    every table it reads is one of ``tables`` (declared when the cache is
    made, so that every process is told of their changes from the start),
    and not by a session that has written one of them in its transaction
    (it must see its own writes, which nobody else may see yet).
    """

    MAX_SHAPES = 256

    def __init__(self, tables: Iterable[str], ttl: float = 60.0, size: int = 1024) -> None:
        super().__init__(tables, ttl, size)
        self._readable: dict[Hashable, bool] = {}  # per statement structure

    def rows(self, session: Session, statement: Executable) -> tuple[Any, ...]:
        """``session.execute(statement).all()``, from the cache when it may."""
        key = self._key(session, statement)
        found = None if key is None else self.get(key)
        if found is None:
            found = tuple(session.execute(statement).all())
            if key is not None:
                self.put(key, found)
        return found

    def _key(self, session: Session, statement: Executable) -> Hashable | None:
        if session.info.get(_PENDING, frozenset()) & self.tables:
            return None
        scope = scope_key(session)
        generated = cast(ClauseElement, statement)._generate_cache_key()
        if scope is None or generated is None or not self._reads_ours(generated.key, statement):
            return None
        values = tuple(_hashable(b.effective_value) for b in generated.bindparams)
        key = (scope, generated.key, values)
        try:
            hash(key)
        except TypeError:  # a JSON value as a parameter: not kept
            return None
        return key

    def _reads_ours(self, shape: Hashable, statement: Executable) -> bool:
        readable = self._readable.get(shape)
        if readable is None:
            read = {table.name for table in tables_in(cast(ClauseElement, statement))}
            readable = read <= self.tables
            if len(self._readable) >= self.MAX_SHAPES:
                self._readable.clear()
            self._readable[shape] = readable
        return readable


def _hashable(value: Any) -> Any:
    """A parameter's value as part of a key (an IN's list as a tuple)."""
    return tuple(value) if isinstance(value, list) else value


# Caches of every kind of value; only their tables are read and they are cleared.
_caches: "weakref.WeakSet[RowCache[Any]]" = weakref.WeakSet()
# Weak: an application (a test's) that is gone stops being told.
_notifiers: "list[weakref.WeakMethod[Notifier]]" = []


def tables_changed(tables: Iterable[str], *, notify: bool = True) -> None:
    """Empty this process's caches of ``tables``; with ``notify``, tell the
    other processes too (a change committed here)."""
    changed = frozenset(tables)
    for cache in list(_caches):
        if cache.tables & changed:
            cache.clear()
    if notify and changed & cached_tables():
        for ref in list(_notifiers):
            notifier = ref()
            if notifier is None:
                _notifiers.remove(ref)
            else:
                notifier(changed)


def cached_tables() -> frozenset[str]:
    return frozenset().union(*(cache.tables for cache in list(_caches)))


def connect_other_processes(notifier: Notifier) -> None:
    """Call ``notifier(tables)`` (a bound method, held weakly) after each
    commit that changed a cached table; the receiving process calls
    ``tables_changed(tables, notify=False)``."""
    _notifiers.append(weakref.WeakMethod(notifier))


def _note(session: Session, tables: Iterable[str]) -> None:
    touched = frozenset(tables) & cached_tables()
    if touched:
        session.info[_PENDING] = session.info.get(_PENDING, frozenset()) | touched
        tables_changed(touched, notify=False)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    _note(session, {table.name for obj in written for table in _tables_of(obj)})


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    # On every write (sessions, audit): the statement's own model says which
    # table it writes, without walking the statement.
    mapper = state.bind_mapper
    if mapper is not None:
        _note(state.session, {table.name for table in mapper.tables})
        return
    # A Core statement on a table: a clause element, which the ORM's state
    # types only as Executable.
    _note(state.session, {table.name for table in tables_in(cast(ClauseElement, state.statement))})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    tables = session.info.pop(_PENDING, None)
    if tables:
        tables_changed(tables)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    tables = session.info.pop(_PENDING, None)
    if tables:
        tables_changed(tables, notify=False)


def _tables_of(obj: object) -> list[Table]:
    mapper = getattr(type(obj), "__mapper__", None)
    return list(mapper.tables) if mapper is not None else []
