"""The core's own periodic jobs, declared through the same door as the
plugins' (``consultroom_worker_jobs``): the day's reminders, the
anonymisation of old appointments, the closing of rooms left open
(``consultroom.room.housekeeping``) and the end of sockets whose process
died (``consultroom.room.presence``). Their names are what the worker's log
counts ("reminders: 3, anonymised: 0")."""

from datetime import timedelta

from consultroom.hookspecs import WorkerJob, hookimpl
from consultroom.jobs import anonymise, reminders
from consultroom.room import housekeeping, presence

CORE_JOBS = [
    # Every minute: a reminder goes out within a minute of the reminder hour.
    WorkerJob("reminders", timedelta(minutes=1), reminders.job),
    WorkerJob("anonymised", timedelta(minutes=1), anonymise.job),
    WorkerJob("rooms closed", timedelta(minutes=1), housekeeping.job),
    WorkerJob("sockets expired", timedelta(minutes=1), presence.expire),
]


@hookimpl
def consultroom_worker_jobs():
    return CORE_JOBS
