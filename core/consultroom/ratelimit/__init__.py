"""Rate limits on failures (wrong passwords, bad tokens, link requests).

A limit allows ``max`` failures per key within a sliding ``window``; the
failure that reaches ``max`` locks the key for one whole window from then
(``exceeded`` says for how long, ``message`` says it to the user), and a
success may ``clear`` it.

Where the counts live: in Redis when ``redis.url`` is set, so that every
application process shares them and they expire by themselves; otherwise as
rows in the request's transaction (``Failure``), pruned by the worker. Redis
keeps, per key, a sorted set of the last ``max`` failure times rather than a
fixed-window INCR counter: a fixed window lets an attacker spend ``max``
failures at the end of one window and ``max`` more at the start of the next,
and the sliding window gives both backends the same meaning. If Redis cannot
be reached the database is used, so a Redis outage neither stops logins nor
lifts the limits.
"""
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.ratelimit.models import Failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window: timedelta

    def _key(self, part):
        return f"{self.name}:{part}"

    def exceeded(self, request, part):
        """How long ``part`` is still locked out (a timedelta), or None."""
        times = request.registry["ratelimit"].recent_failures(request, self._key(part), self)
        if len(times) < self.max_failures:
            return None
        locked_from = times[-1]
        if locked_from - times[-self.max_failures] >= self.window:
            return None  # the last failures were spread over more than a window
        remaining = locked_from + self.window - utcnow()
        return remaining if remaining > timedelta(0) else None

    def fail(self, request, part):
        request.registry["ratelimit"].fail(request, self._key(part), self)

    def clear(self, request, part):
        request.registry["ratelimit"].clear(request, self._key(part))

    @staticmethod
    def minutes(remaining):
        """``remaining`` in whole minutes, rounded up: what to tell the user."""
        return max(1, math.ceil(remaining.total_seconds() / 60))

    @classmethod
    def message(cls, remaining):
        """What to tell someone locked out for ``remaining`` more."""
        return _("Too many failed attempts. Wait ${minutes} minutes and try again.",
                 mapping={"minutes": cls.minutes(remaining)})


def limits_from_settings(settings, name, max_default, minutes_default):
    return Limit(
        name,
        int(settings.get(f"ratelimit.{name}.max", max_default)),
        timedelta(minutes=int(settings.get(f"ratelimit.{name}.minutes", minutes_default))),
    )


class DatabaseCounter:
    """Failures as rows, written in the request's transaction."""

    def recent_failures(self, request, key, limit):
        times = request.dbsession.scalars(
            select(Failure.at).where(Failure.key == key)
            .order_by(Failure.at.desc()).limit(limit.max_failures)
        ).all()
        return times[::-1]

    def fail(self, request, key, limit):
        request.dbsession.add(Failure(key=key))

    def clear(self, request, key):
        request.dbsession.execute(delete(Failure).where(Failure.key == key))


class RedisCounter:
    """Failures as a sorted set per key (score: the time), trimmed to the
    last ``max`` and expiring a window after the last failure. Written at
    once, whatever becomes of the request's transaction."""

    def __init__(self, client, prefix, fallback):
        import redis

        self.client = client
        self.prefix = prefix
        self.fallback = fallback
        self._errors = redis.RedisError

    @classmethod
    def from_settings(cls, settings):
        import redis

        client = redis.Redis.from_url(settings["redis.url"], socket_timeout=2,
                                      socket_connect_timeout=2)
        return cls(client, settings.get("ratelimit.prefix", "consultroom:ratelimit:"),
                   DatabaseCounter())

    def _down(self, exc):
        log.warning("rate limits: Redis unavailable (%s); using the database", exc)

    def recent_failures(self, request, key, limit):
        try:
            scores = self.client.zrange(self.prefix + key, -limit.max_failures, -1,
                                        withscores=True)
        except self._errors as exc:
            self._down(exc)
            return self.fallback.recent_failures(request, key, limit)
        return [datetime.fromtimestamp(score, timezone.utc).replace(tzinfo=None)
                for _member, score in scores]

    def fail(self, request, key, limit):
        now = time.time()
        name = self.prefix + key
        pipe = self.client.pipeline()
        pipe.zadd(name, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zremrangebyscore(name, "-inf", now - limit.window.total_seconds())
        pipe.zremrangebyrank(name, 0, -limit.max_failures - 1)
        pipe.pexpire(name, math.ceil(limit.window.total_seconds() * 1000))
        try:
            pipe.execute()
        except self._errors as exc:
            self._down(exc)
            self.fallback.fail(request, key, limit)

    def clear(self, request, key):
        try:
            self.client.delete(self.prefix + key)
        except self._errors as exc:
            self._down(exc)
            self.fallback.clear(request, key)


def make_counter(settings):
    if settings.get("redis.url"):
        return RedisCounter.from_settings(settings)
    return DatabaseCounter()


def prune(dbsession, older_than=timedelta(days=1)):
    """Forget failures older than any window; run by the worker."""
    dbsession.execute(delete(Failure).where(Failure.at < utcnow() - older_than))


def includeme(config):
    config.registry["ratelimit"] = make_counter(config.get_settings())
