"""Rate limits on failures (wrong passwords, bad tokens), counted per key in a
sliding window. Failures are rows in the request's transaction, so a
refused attempt is recorded even though nothing else changes."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from zope.sqlalchemy import mark_changed

from consultroom.db import utcnow
from consultroom.ratelimit.models import Failure


@dataclass(frozen=True)
class Limit:
    name: str
    max_failures: int
    window: timedelta

    def _key(self, part):
        return f"{self.name}:{part}"

    def exceeded(self, request, part):
        since = utcnow() - self.window
        count = request.dbsession.scalar(
            select(func.count()).select_from(Failure).where(
                Failure.key == self._key(part), Failure.at > since
            )
        )
        return count >= self.max_failures

    def fail(self, request, part):
        request.dbsession.add(Failure(key=self._key(part)))

    def clear(self, request, part):
        request.dbsession.execute(delete(Failure).where(Failure.key == self._key(part)))
        mark_changed(request.dbsession)


def limits_from_settings(settings, name, max_default, minutes_default):
    return Limit(
        name,
        int(settings.get(f"ratelimit.{name}.max", max_default)),
        timedelta(minutes=int(settings.get(f"ratelimit.{name}.minutes", minutes_default))),
    )


def prune(dbsession, older_than=timedelta(days=1)):
    """Forget failures older than any window; run by the worker."""
    dbsession.execute(delete(Failure).where(Failure.at < utcnow() - older_than))
    mark_changed(dbsession)
