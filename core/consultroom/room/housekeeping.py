"""The worker's room housekeeping: a room nobody ended (the practitioner
closed the tab, a process died mid-call) stays open, counts as the
practitioner being busy for the walk-in widget and keeps its shared files.
Once it started more than ``jobs.close_rooms_after_hours`` (default 24) ago
it is ended as if its staff had pressed "End": the visit ends, the members
leave, the files go, the plugins hear ``consultroom_room_ended`` and any
socket still in it gets ``ended``."""

from datetime import timedelta

from sqlalchemy import select

from consultroom.db import after_commit, utcnow
from consultroom.realtime import publish_after_commit
from consultroom.realtime.events import Events
from consultroom.room import service as rooms
from consultroom.room.files import delete_paths
from consultroom.room.models import Room

DEFAULT_HOURS = 24
PER_RUN = 100  # rooms per run; a longer backlog is the next runs'


def close_after(settings):
    return timedelta(hours=float(settings.get("jobs.close_rooms_after_hours", DEFAULT_HOURS)))


def abandoned(request, now):
    """The organisation's open rooms that started too long before ``now``."""
    cutoff = now - close_after(request.registry.settings)
    return request.dbsession.scalars(
        select(Room)
        .where(
            Room.organisation_id == request.organisation.id,
            Room.ended_at.is_(None),
            Room.started_at < cutoff,
        )
        .order_by(Room.started_at)
        .limit(PER_RUN)
    ).all()


def job(request, now=None):
    """The worker job (``consultroom.jobs.hooks``): end the organisation's
    abandoned rooms in the request's transaction; how many."""
    now = now or utcnow()
    events = Events(request.registry["realtime_limits"], request)
    follow_up = request.organisation.options["follow_up_text"]
    paths = []
    closed = abandoned(request, now)
    for room in closed:
        paths += rooms.end(request, room, follow_up, events)
    events.finish(request.dbsession)
    for channel, message in events.messages:
        publish_after_commit(request, channel, message)
    after_commit(request, delete_paths, paths)
    return len(closed)
