"""Defence in depth for tenancy: a session in a request reads only the
request's organisation's rows, even where a query forgets to say so.

Every query is still scoped by hand (``Model.organisation_id ==
request.organisation.id``); this is the second wall behind it. A model
whose rows belong to one organisation inherits ``OrganisationScoped``. A
session that follows a request (``request.dbsession``: web pages, the API,
websockets, the command line and the worker's jobs, which all go through a
request for a site) is *in scope*, and then every ORM statement it runs:

* on an organisation's site, gets ``organisation_id = <that organisation>``
  added for every scoped entity in it (``with_loader_criteria``: joins,
  subqueries, aliases, ``select(Model.column)``, bulk UPDATE and DELETE),
  and ``Organisation.id = <that organisation>``; relationships lazily
  loaded from the rows read that way are filtered too (out of every scope,
  such a load is refused);
* on the console (or a site we do not know), which is "organisation NULL":
  gets ``organisation_id IS NULL`` for the scoped models whose rows may
  belong to no organisation (``User``: the superusers; ``StoredSession``:
  console sessions; ``OutboxMessage``: the console's mail), and raises
  ``UnscopedQuery`` when it touches any other scoped model.

Code that must see every organisation (the console's pages about an
organisation, the audit chain's verification, the worker's pruning) says so
with ``with all_organisations(session):``, each with a comment why: grep
for it to review them all.

What the wall does not cover, and why that is acceptable:

* INSERTs are not checked: their values say whose rows they are, and they
  are written by code, not found by ids from a request.
* ``text()`` SQL and Core statements on a scoped model's ``__table__``
  (rather than on the model) are not filtered: the core uses neither.
* Objects already in the session's identity map are returned by
  ``Session.get`` without a query (they were read under a scope already),
  and expired attributes are refreshed without the criteria (the row is
  one the session already holds). Relationships of objects the session
  made itself, or read under ``all_organisations``, load unfiltered.
* Rows of models without an ``organisation_id`` of their own hang off a
  scoped parent and are only reached through it (see ``UNSCOPED`` in
  ``consultroom.db.models``).
* A session that follows no request (the test's own session, the mail
  outbox's delivery, migrations, the worker's sweep of room files) is not
  in scope: that code is cross-organisation by nature.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ForeignKey, Table, bindparam, event
from sqlalchemy.orm import (
    Mapped,
    Mapper,
    ORMExecuteState,
    Session,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import iterate

if TYPE_CHECKING:
    from pyramid.request import Request  # untyped: Any to mypy, named for the reader

SCOPE = "consultroom.organisation_scope"
ALL_ORGANISATIONS = "consultroom.all_organisations"


class OrganisationScoped:
    """A model whose every row belongs to one organisation.

    The usual ``organisation_id`` is declared here; a model whose column
    differs (nullable for rows of the console, no foreign key, another index)
    declares its own. ``tests/test_tenancy_scope`` checks that every model
    with an ``organisation_id`` is scoped.
    """

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )


class OrganisationRow:
    """The organisations' own table: in an organisation's scope, only that
    organisation's row (its ``id``) is read."""

    if TYPE_CHECKING:
        # Declared by the model (tenancy's); what the lower layer reads of it.
        id: Mapped[int]
        subdomain: Mapped[str]


class UnscopedQuery(Exception):
    """A query on organisations' rows where no organisation is in scope."""


class _Scope:
    """The organisation a session may read, found on first use: from a
    request, that is when its site is first looked up."""

    def __init__(self, find_organisation_id: Callable[[], int | None]) -> None:
        self._find = find_organisation_id
        self.resolving = False

    def organisation_id(self) -> int | None:
        # Looking the organisation up runs a query of its own, on this session.
        self.resolving = True
        try:
            return self._find()
        finally:
            self.resolving = False


def _request_organisation_id(request: Request) -> int | None:
    organisation: OrganisationRow | None = request.organisation
    return organisation.id if organisation is not None else None


@contextmanager
def _scoped(session: Session, scope: _Scope) -> Iterator[Session]:
    previous = session.info.get(SCOPE)
    session.info[SCOPE] = scope
    try:
        yield session
    finally:
        _restore(session, previous)


def _restore(session: Session, previous: _Scope | None) -> None:
    if previous is None:
        session.info.pop(SCOPE, None)
    else:
        session.info[SCOPE] = previous


def organisation_scope(
    session: Session, organisation_id: int | None
) -> AbstractContextManager[Session]:
    """Keep ``session`` to ``organisation_id`` (None: the console) in the
    block, as if it were a request for that site."""
    return _scoped(session, _Scope(lambda: organisation_id))


def follow_request(session: Session, request: Request) -> None:
    """Keep ``session`` to ``request``'s organisation until the request
    has finished; the session is as it was afterwards."""
    previous = session.info.get(SCOPE)
    session.info[SCOPE] = _Scope(lambda: _request_organisation_id(request))
    # The session may outlive the request (a test's), the scope must not;
    # nor may the request keep a session it let go of alive (a websocket's
    # request lives for hours and replaces it, consultroom.realtime.dbsession).
    held = weakref.ref(session)
    request.add_finished_callback(lambda _request: _restore_if_alive(held, previous))


def _restore_if_alive(held: weakref.ref[Session], previous: _Scope | None) -> None:
    session = held()
    if session is not None:
        _restore(session, previous)


@contextmanager
def all_organisations(session: Session) -> Iterator[Session]:
    """Let ``session`` read every organisation's rows in the block: the
    explicit opt-out. Say at each use why it is needed."""
    session.info[ALL_ORGANISATIONS] = session.info.get(ALL_ORGANISATIONS, 0) + 1
    try:
        yield session
    finally:
        session.info[ALL_ORGANISATIONS] -= 1


def in_scope(session: Session) -> bool:
    """Whether ``session``'s statements are kept to a scope now."""
    return SCOPE in session.info and not session.info.get(ALL_ORGANISATIONS)


def scope_key(session: Session) -> tuple[str, int | None] | None:
    """What ``session``'s statements read now, as part of a cache key:
    ``("organisation", id)``, ``("console", None)`` or ``("all", None)``
    (out of scope: every organisation's rows); None while its scope is
    still being found."""
    scope: _Scope | None = session.info.get(SCOPE)
    if not in_scope(session) or scope is None:
        return ("all", None)
    if scope.resolving:
        return None
    organisation_id = scope.organisation_id()
    return ("console", None) if organisation_id is None else ("organisation", organisation_id)


def _scoped_tables() -> dict[FromClause, bool]:
    """``{table: nullable}`` for every scoped model's table."""
    from consultroom.db import Base

    return _scoped_tables_of(Base.registry.mappers)


# Asked on every console statement: worked out once per set of mapped
# models (a plugin's, imported later, make a new set).
@cache
def _scoped_tables_of(mappers: frozenset[Mapper[Any]]) -> dict[FromClause, bool]:
    return {
        mapper.local_table: mapper.local_table.c.organisation_id.nullable
        for mapper in mappers
        if issubclass(mapper.class_, OrganisationScoped)
    }


@cache  # mapped once, when the models are imported; asked on every statement
def organisation_model() -> type[OrganisationRow]:
    """The mapped class of the organisations' table: tenancy's, which the
    lower layer does not import."""
    from consultroom.db import Base

    (model,) = (m.class_ for m in Base.registry.mappers if issubclass(m.class_, OrganisationRow))
    return model


def tables_in(statement: ClauseElement) -> set[Table]:
    """The tables ``statement`` reads or writes, in all its parts."""
    found: set[Table] = set()
    for element in iterate(statement):
        if isinstance(element, Table):
            found.add(element)
    return found


def _console_criteria(state: ORMExecuteState) -> tuple[LoaderCriteriaOption, ...]:
    """No organisation in scope: only rows of no organisation, and only of
    the models that have such rows."""
    scoped = _scoped_tables()
    # A SELECT, UPDATE or DELETE: a clause element, which the ORM's state
    # types only as Executable.
    touched = tables_in(cast(ClauseElement, state.statement)) & scoped.keys()
    refused = sorted(table.name for table in touched if not scoped[table])
    if refused:
        raise UnscopedQuery(
            f"a query on {', '.join(refused)} without an organisation in scope; wrap it in"
            " all_organisations(session) if it is meant to see every organisation"
        )
    return _console_only()


@cache
def _console_only() -> tuple[LoaderCriteriaOption, ...]:
    return (
        with_loader_criteria(
            OrganisationScoped, lambda cls: cls.organisation_id.is_(None), include_aliases=True
        ),
    )


# A SELECT's criteria get the organisation's id as this statement parameter,
# which ``_keep_to_scope`` supplies at every execution in a scope (the
# lazy loads and refreshes of rows read there included): a statement that
# carries the criteria out of every scope is refused for want of it rather
# than read unfiltered. A closure variable, as in an UPDATE's or DELETE's
# criteria below, would work too, but SQLAlchemy extracts it as a parameter
# of each entity's annotated copy of the criteria; the copies share one
# hash, and telling them apart at each execution built a SQL expression per
# comparison: about 5 % of a staff page's time. (The name is spelled out in
# the lambdas: SQLAlchemy would make a name it finds there a parameter of
# its own.)
SCOPE_PARAMETER = "consultroom_scope_organisation_id"


@cache
def _select_criteria() -> tuple[LoaderCriteriaOption, ...]:
    return (
        with_loader_criteria(
            OrganisationScoped,
            lambda cls: cls.organisation_id == bindparam("consultroom_scope_organisation_id"),
            include_aliases=True,
        ),
        with_loader_criteria(
            organisation_model(),
            lambda cls: cls.id == bindparam("consultroom_scope_organisation_id"),
            include_aliases=True,
        ),
    )


# A bulk UPDATE or DELETE keeps the objects the session holds in step by
# evaluating its criteria in Python, which needs the id in them. Options are
# immutable, so one organisation's serve every such statement.
@lru_cache(maxsize=4096)
def _write_criteria(organisation_id: int) -> tuple[LoaderCriteriaOption, ...]:
    return (
        with_loader_criteria(
            OrganisationScoped,
            lambda cls: cls.organisation_id == organisation_id,
            include_aliases=True,
        ),
        with_loader_criteria(
            organisation_model(), lambda cls: cls.id == organisation_id, include_aliases=True
        ),
    )


@event.listens_for(Session, "do_orm_execute")
def _keep_to_scope(state: ORMExecuteState) -> None:
    scope: _Scope | None = state.session.info.get(SCOPE)
    if scope is None or scope.resolving:
        return  # no scope; or finding the organisation by its subdomain
    if not (state.is_select or state.is_update or state.is_delete):
        return  # an INSERT's values say whose row it is
    # Refreshing a row the session holds, or loading its relationships: rows
    # read in the scope carry the criteria of the statement that read them,
    # under all_organisations too (where nothing else is asked of the scope:
    # finding the request's organisation runs there).
    carried = state.is_column_load or state.is_relationship_load
    if not (in_scope(state.session) or carried):
        return
    organisation_id = scope.organisation_id()
    if state.is_select and organisation_id is not None:
        _supply(state, organisation_id)
    if carried or not in_scope(state.session):
        return
    if organisation_id is None:
        state.statement = state.statement.options(*_console_criteria(state))
    elif state.is_select:
        state.statement = _with_select_criteria(state.statement)
    else:
        state.statement = state.statement.options(*_write_criteria(organisation_id))


# A SELECT's criteria are the same for every organisation, so its copy with
# them is too: kept while the statement lives, a statement built once (a
# page's count, the session's row) is not copied, nor its SQLAlchemy cache
# key made again, at every execution.
_scoped_selects: weakref.WeakKeyDictionary[Executable, Executable] = weakref.WeakKeyDictionary()


def _with_select_criteria(statement: Executable) -> Executable:
    scoped = _scoped_selects.get(statement)
    if scoped is None:
        scoped = _scoped_selects[statement] = statement.options(*_select_criteria())
    return scoped


def _supply(state: ORMExecuteState, organisation_id: int) -> None:
    """The scope's organisation as the SELECT criteria's parameter (a
    SELECT has one set of parameters, not an executemany's list)."""
    parameters = cast(Mapping[str, object], state.parameters or {})
    state.parameters = {**parameters, SCOPE_PARAMETER: organisation_id}
