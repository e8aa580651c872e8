"""Which worker runs a periodic job for an organisation, and when.

Time is cut into periods of the job's interval, counted from 1970-01-01
00:00 UTC; a job runs at most once in each period for each organisation.
Its claim row (``JobClaim``) holds the start of the next period. Claiming is
one conditional UPDATE, "move it to the next period where it has not been
moved yet" (or, the first time, an INSERT that does nothing on a conflict),
in a transaction of its own that commits before the job runs. Of workers
that try at the same moment, one changes the row and the others change
nothing: on PostgreSQL the second UPDATE waits for the first to commit and
then finds its condition false; SQLite has one writer at a time.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from consultroom.db import upsert
from consultroom.jobs.models import JobClaim

EPOCH = datetime(1970, 1, 1)


def next_period(now: datetime, interval: timedelta) -> datetime:
    """The start of the period after the one ``now`` is in."""
    return EPOCH + ((now - EPOCH) // interval + 1) * interval


def not_due(registry, now):
    """``(job name, organisation id)`` of every claim whose next run is later
    than ``now``: one query a round, so that claims are tried only when due."""
    with registry["dbmaker"]() as session:
        rows = session.execute(
            select(JobClaim.job, JobClaim.organisation_id).where(JobClaim.next_run_at > now)
        )
        return {(job, organisation_id) for job, organisation_id in rows}


def claim(registry, job, organisation_id, now):
    """Take the run of ``job`` (a ``WorkerJob``) for the organisation in the
    period of ``now``: True when this call took it, False when it was not due
    or another worker took it first."""
    due_from = next_period(now, job.interval)
    with registry["dbmaker"]() as session:
        moved = session.execute(
            update(JobClaim)
            .where(
                JobClaim.job == job.name,
                JobClaim.organisation_id == organisation_id,
                JobClaim.next_run_at <= now,
            )
            .values(next_run_at=due_from, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            # Its first run here (or not due: then the row exists and this inserts
            # nothing). RETURNING says which: an ORM insert's rowcount is -1 on
            # PostgreSQL.
            inserted = session.execute(
                upsert(session, JobClaim)
                .values(
                    job=job.name,
                    organisation_id=organisation_id,
                    next_run_at=due_from,
                    claimed_at=now,
                )
                .on_conflict_do_nothing()
                .returning(JobClaim.job)
            ).all()
            moved = len(inserted)
        session.commit()
    return moved == 1
