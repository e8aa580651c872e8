"""Rate limits on failures (wrong passwords, bad tokens, link requests).

A limit allows ``max`` failures per key within a sliding ``window``; the
failure that reaches ``max`` locks the key for one whole window from then
(``exceeded`` says for how long, ``message`` says it to the user), and a
success may ``clear`` it.

A secret is checked as an ``Attempt``: the try is counted as a failure
first, in one atomic step that refuses it instead when the key is locked
out, and is taken back (``refund``) when the secret was right. Checking the
limit, then verifying, then counting would let a burst of concurrent guesses
all pass the check before the first of them is counted; counting first also
keeps the slow verification (argon2) out of reach once the limit is reached.

Where the counts live: in Redis when ``redis.url`` is set, so that every
application process shares them and they expire by themselves; otherwise as
rows in the request's transaction (``Failure``), pruned by the worker. Redis
keeps, per key, a sorted set of the last ``max`` failure times rather than a
fixed-window INCR counter: a fixed window lets an attacker spend ``max``
failures at the end of one window and ``max`` more at the start of the next,
and the sliding window gives both backends the same meaning. If Redis cannot
be reached the database is used, so a Redis outage neither stops logins nor
lifts the limits.

The atomic step: in Redis one Lua script (Redis runs a script alone); in the
database, writing the key's ``LimitedKey`` row before reading its failures,
so that a concurrent attempt on the same key waits until this request's
transaction ends (a row lock on PostgreSQL; SQLite has one writer anyway).
A failed attempt is counted in that transaction, so it counts when the
request commits: a wrong secret is answered with a page, never raised.

The counts are kept by a service (``IRateLimitCounter``), found with
``rate_limit_counter(registry)``; a test or a plugin swaps the backend by
registering another ``IRateLimitCounter`` utility.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy import Integer, bindparam, delete, select
from sqlalchemy.sql.base import Executable
from zope.interface import Interface, implementer
from zope.sqlalchemy import mark_changed

from consultroom.db import upsert_for, utcnow
from consultroom.i18n import _
from consultroom.ratelimit.models import Failure, LimitedKey

if TYPE_CHECKING:
    # Pyramid has no type information: these are Any to mypy, named for the reader.
    from pyramid.config import Configurator
    from pyramid.i18n import TranslationString
    from pyramid.registry import Registry
    from pyramid.request import Request
    from redis import Redis, RedisError
    from redis.commands.core import Script
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
# What ``reserve`` counted, for ``refund``: the failure's row id in the
# database, its sorted-set member in Redis.
Ticket = int | str
# ``reserve``'s answer: ``(ticket, None)``, or ``(None, remaining)`` when
# locked out for ``remaining`` more.
Reservation = tuple[Ticket, None] | tuple[None, timedelta]


def lockout(times: Sequence[datetime], limit: Limit, now: datetime) -> timedelta | None:
    """How long failures at ``times`` (oldest first) lock ``limit``'s key at
    ``now`` (a timedelta), or None."""
    if len(times) < limit.max_failures:
        return None
    locked_from = times[-1]
    if locked_from - times[-limit.max_failures] >= limit.window:
        return None  # the last failures were spread over more than a window
    remaining = locked_from + limit.window - now
    return remaining if remaining > timedelta(0) else None


class IRateLimitCounter(Interface):
    """Where ``Limit`` counts failures. ``key`` is the limit's name and the
    part it limits ("login_address:192.0.2.10"); ``limit`` the ``Limit`` (its
    ``max_failures`` and ``window``); ``request`` the request counting."""

    def recent_failures(request: Request, key: str, limit: Limit) -> Sequence[datetime]:
        """The times of ``key``'s last failures (naive UTC datetimes, oldest
        first, at most ``limit.max_failures``), to tell whether it is locked
        out (``Limit.exceeded``)."""

    def fail(request: Request, key: str, limit: Limit) -> None:
        """Count a failure of ``key`` now (``Limit.fail``)."""

    def reserve(request: Request, key: str, limit: Limit) -> Reservation:
        """Count a failure of ``key`` now unless it is locked out, in one
        atomic step (an ``Attempt``): ``(ticket, None)``, the ticket for
        ``refund``, or ``(None, remaining)`` when locked out for
        ``remaining`` more (a timedelta), and then nothing is counted."""

    def refund(request: Request, key: str, ticket: Ticket) -> None:
        """Take back the failure that ``reserve`` counted under ``ticket``:
        the secret was right."""

    def clear(request: Request, key: str) -> None:
        """Forget every failure of ``key``: a login that succeeded clears
        the account's earlier failures."""


def rate_limit_counter(registry: Registry) -> IRateLimitCounter:
    counter: IRateLimitCounter = registry.getUtility(IRateLimitCounter)
    return counter


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window: timedelta

    def _key(self, part: str) -> str:
        return f"{self.name}:{part}"

    def exceeded(self, request: Request, part: str) -> timedelta | None:
        """How long ``part`` is still locked out (a timedelta), or None."""
        times = rate_limit_counter(request.registry).recent_failures(request, self._key(part), self)
        return lockout(times, self, utcnow())

    def fail(self, request: Request, part: str) -> None:
        rate_limit_counter(request.registry).fail(request, self._key(part), self)

    def reserve(self, request: Request, part: str) -> Reservation:
        """Count a failure for ``part`` now unless it is locked out, in one
        atomic step: ``(ticket, None)``, the ticket to ``refund`` it with, or
        ``(None, remaining)`` when locked out (and nothing is counted)."""
        return rate_limit_counter(request.registry).reserve(request, self._key(part), self)

    def refund(self, request: Request, part: str, ticket: Ticket) -> None:
        """Take back the failure that ``reserve`` counted."""
        rate_limit_counter(request.registry).refund(request, self._key(part), ticket)

    def clear(self, request: Request, part: str) -> None:
        rate_limit_counter(request.registry).clear(request, self._key(part))

    @staticmethod
    def minutes(remaining: timedelta) -> int:
        """``remaining`` in whole minutes, rounded up: what to tell the user."""
        return max(1, math.ceil(remaining.total_seconds() / 60))

    @classmethod
    def message(cls, remaining: timedelta) -> TranslationString:
        """What to tell someone locked out for ``remaining`` more."""
        return _(
            "Too many failed attempts. Wait ${minutes} minutes and try again.",
            mapping={"minutes": cls.minutes(remaining)},
        )


class Attempt:
    """One try at a secret, under one or more ``(limit, part)`` pairs: counted
    as a failure under each of them before the secret is checked.

    ``locked`` is how long the first locked-out pair still is, and then
    nothing is counted (the try must be refused, even with the right
    secret); else None. Call ``refund()`` when the secret was right."""

    def __init__(self, request: Request, *limits: tuple[Limit, str]) -> None:
        self.request = request
        self.locked: timedelta | None = None
        self._tickets: list[tuple[Limit, str, Ticket]] = []
        for limit, part in limits:
            ticket, locked = limit.reserve(request, part)
            if locked:
                self.locked = locked
                self.refund()
                return
            # None only from a counter that answers (None, timedelta(0)): not
            # locked, and nothing counted that a refund could take back.
            if ticket is not None:
                self._tickets.append((limit, part, ticket))

    def refund(self) -> None:
        """The try was no failure: take back what it counted."""
        for limit, part, ticket in self._tickets:
            limit.refund(self.request, part, ticket)
        self._tickets = []


def limits_from_settings(
    settings: Mapping[str, str], name: str, max_default: int, minutes_default: int
) -> Limit:
    return Limit(
        name,
        int(settings.get(f"ratelimit.{name}.max", max_default)),
        timedelta(minutes=int(settings.get(f"ratelimit.{name}.minutes", minutes_default))),
    )


def token_limit(settings: Mapping[str, str]) -> Limit:
    """Invalid tokens per client address: password, client, portal and
    invitation links over HTTP, and the same tokens over the websocket."""
    return limits_from_settings(settings, "token_address", 20, 60)


def client_address(request: Request) -> str:
    """The address that limits per address count under."""
    address: str = request.client_addr or "unknown"
    return address


class TooManyTries(Exception):
    """A try refused because its key is locked out for ``remaining`` more;
    the error pages answer it with 429."""

    def __init__(self, remaining: timedelta) -> None:
        super().__init__(remaining)
        self.remaining = remaining


def find_by_token(request: Request, find: Callable[[], T | None]) -> T | None:
    """``find()`` (the object a token opens, or None: a link's token in the
    address, or a websocket hello's) under the limit on invalid tokens per
    address. A miss counts: answer it with a
    response rather than an exception, or the transaction that holds the
    count is aborted. Raises ``TooManyTries`` while the address is locked."""
    attempt = Attempt(request, (token_limit(request.registry.settings), client_address(request)))
    if attempt.locked:
        raise TooManyTries(attempt.locked)
    found = find()
    if found is not None:
        attempt.refund()
    return found


@implementer(IRateLimitCounter)
class DatabaseCounter:
    """Failures as rows, written in the request's transaction."""

    def recent_failures(self, request: Request, key: str, limit: Limit) -> Sequence[datetime]:
        dbsession: Session = request.dbsession
        latest = {"limited_key": key, "count": limit.max_failures}
        return dbsession.scalars(_LATEST_FAILURES, latest).all()[::-1]

    def fail(self, request: Request, key: str, limit: Limit) -> None:
        request.dbsession.add(Failure(key=key))

    def reserve(self, request: Request, key: str, limit: Limit) -> Reservation:
        dbsession: Session = request.dbsession
        now: datetime = utcnow()
        _take_key(dbsession, key, now)
        remaining = lockout(self.recent_failures(request, key, limit), limit, now)
        if remaining:
            return None, remaining
        failure = Failure(key=key, at=now)
        dbsession.add(failure)
        dbsession.flush()
        return failure.id, None

    def refund(self, request: Request, key: str, ticket: Ticket) -> None:
        request.dbsession.execute(delete(Failure).where(Failure.id == ticket, Failure.key == key))

    def clear(self, request: Request, key: str) -> None:
        request.dbsession.execute(delete(Failure).where(Failure.key == key))


# The statements of every login, PIN and code attempt, built once; what
# differs is in their parameters.
_LATEST_FAILURES = (
    select(Failure.at)
    .where(Failure.key == bindparam("limited_key"))
    .order_by(Failure.at.desc())
    .limit(bindparam("count", type_=Integer))
)


@cache  # one per database kind
def _take_key_statement(dialect: str) -> Executable:
    insert_key = upsert_for(dialect, LimitedKey.__table__)
    statement: Executable = insert_key.values(
        key=bindparam("limited_key"), touched_at=bindparam("now")
    ).on_conflict_do_update(index_elements=["key"], set_={"touched_at": bindparam("now")})
    return statement


def _take_key(dbsession: Session, key: str, now: datetime) -> None:
    """Write ``key``'s row, so that no other transaction reads or counts the
    key's failures until this one ends."""
    statement = _take_key_statement(dbsession.get_bind().dialect.name)
    dbsession.execute(statement, {"limited_key": key, "now": now})
    # A Core statement: without this, zope.sqlalchemy would not commit it.
    mark_changed(dbsession)


# Counts a failure, in one step that Redis runs alone. KEYS[1]: the key's
# sorted set. ARGV: now and the window (in seconds), max, the member to add,
# and "1" to refuse instead while the key is locked out (see ``lockout``).
# Returns the milliseconds (at least 1) the key stays locked out, and then
# counts nothing; else 0.
_COUNT_SCRIPT = """
local now, window, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[5] == "1" then
  local last = redis.call("ZRANGE", KEYS[1], -max, -1, "WITHSCORES")
  if #last == 2 * max then
    local oldest, newest = tonumber(last[2]), tonumber(last[#last])
    if newest - oldest < window and now < newest + window then
      return math.max(1, math.floor((newest + window - now) * 1000 + 0.5))
    end
  end
end
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[4])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -max - 1)
redis.call("PEXPIRE", KEYS[1], math.ceil(window * 1000))
return 0
"""


@implementer(IRateLimitCounter)
class RedisCounter:
    """Failures as a sorted set per key (score: the time), trimmed to the
    last ``max`` and expiring a window after the last failure. Written at
    once, whatever becomes of the request's transaction."""

    def __init__(self, client: Redis, prefix: str, fallback: DatabaseCounter) -> None:
        import redis

        self.client = client
        self.prefix = prefix
        self.fallback = fallback
        self._errors: type[RedisError] = redis.RedisError
        self._count: Script = client.register_script(_COUNT_SCRIPT)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> RedisCounter:
        import redis

        client = redis.Redis.from_url(
            settings["redis.url"], socket_timeout=2, socket_connect_timeout=2
        )
        return cls(
            client, settings.get("ratelimit.prefix", "consultroom:ratelimit:"), DatabaseCounter()
        )

    def _down(self, exc: RedisError) -> None:
        log.warning("rate limits: Redis unavailable (%s); using the database", exc)

    def recent_failures(self, request: Request, key: str, limit: Limit) -> Sequence[datetime]:
        try:
            # With scores, redis-py answers (member, score) pairs.
            scores = cast(
                "list[tuple[bytes, float]]",
                self.client.zrange(self.prefix + key, -limit.max_failures, -1, withscores=True),
            )
        except self._errors as exc:
            self._down(exc)
            return self.fallback.recent_failures(request, key, limit)
        return [
            datetime.fromtimestamp(score, UTC).replace(tzinfo=None) for _member, score in scores
        ]

    def _run(self, key: str, limit: Limit, check: bool) -> tuple[str, timedelta | None]:
        """Run the script; ``(member, locked for)``. Raises RedisError."""
        now = time.time()
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        milliseconds: int = self._count(
            keys=[self.prefix + key],
            args=[now, limit.window.total_seconds(), limit.max_failures, member, int(check)],
        )
        return member, (timedelta(milliseconds=milliseconds) if milliseconds else None)

    def fail(self, request: Request, key: str, limit: Limit) -> None:
        try:
            self._run(key, limit, check=False)
        except self._errors as exc:
            self._down(exc)
            self.fallback.fail(request, key, limit)

    def reserve(self, request: Request, key: str, limit: Limit) -> Reservation:
        try:
            member, locked = self._run(key, limit, check=True)
        except self._errors as exc:
            self._down(exc)
            return self.fallback.reserve(request, key, limit)
        return (None, locked) if locked else (member, None)

    def refund(self, request: Request, key: str, ticket: Ticket) -> None:
        if isinstance(ticket, int):  # counted in the database while Redis was down
            self.fallback.refund(request, key, ticket)
            return
        try:
            self.client.zrem(self.prefix + key, ticket)
        except self._errors as exc:
            log.warning("rate limits: Redis unavailable (%s); a right try stays counted", exc)

    def clear(self, request: Request, key: str) -> None:
        try:
            self.client.delete(self.prefix + key)
        except self._errors as exc:
            self._down(exc)
            self.fallback.clear(request, key)


def make_counter(settings: Mapping[str, str]) -> RedisCounter | DatabaseCounter:
    if settings.get("redis.url"):
        return RedisCounter.from_settings(settings)
    return DatabaseCounter()


def prune(dbsession: Session, older_than: timedelta = timedelta(days=1)) -> None:
    """Forget failures (and keys without any) older than any window; run by
    the worker."""
    cutoff = utcnow() - older_than
    dbsession.execute(delete(Failure).where(Failure.at < cutoff))
    dbsession.execute(delete(LimitedKey).where(LimitedKey.touched_at < cutoff))


def includeme(config: Configurator) -> None:
    config.registry.registerUtility(make_counter(config.get_settings()), IRateLimitCounter)
