"""Presence that outlives a dead process. A socket's rows (the client's
visit: ``connected``; a room member: ``left_at`` empty) are cleared when the
socket closes, by the process that serves it. When that process dies, nobody
clears them: the client would stay "connected" in the staff's lists and the
member "in the room" for good.

So every app process says which of its sockets are still open, every
``realtime.presence_seconds`` (default 30; the realtime heartbeat calls
``mark`` with their peer ids in one transaction): the visit's ``last_seen``
and the member's ``seen_at``. The worker job ``expire`` (every minute) treats
rows not marked for ``STALE_BEATS`` periods as sockets that closed when last
seen: the visit is disconnected (its grace period counted from then, the
staff's lists told), the member leaves its room (the others get
``peer_left``). The browsers of a dead process reconnect to another one and
take their place again (a new hello takes over the visit; a rejoin replaces
the member)."""

from datetime import timedelta

from sqlalchemy import func, select, update
from zope.sqlalchemy import mark_changed

from consultroom.db import utcnow
from consultroom.realtime import publish_after_commit
from consultroom.realtime.door import door
from consultroom.realtime.events import Events
from consultroom.room import service as rooms
from consultroom.room.models import Room, RoomMember
from consultroom.waitingroom import live
from consultroom.waitingroom.models import Visit

STALE_BEATS = 3  # periods without a mark before a socket counts as gone
CHUNK = 500  # peer ids per UPDATE


def mark(dbsession, peers, now):
    """The sockets ``peers`` of this process are open at ``now``."""
    peers = list(peers)
    for start in range(0, len(peers), CHUNK):
        chunk = peers[start : start + CHUNK]
        dbsession.execute(
            update(Visit)
            .where(Visit.peer.in_(chunk), Visit.connected)
            .values(last_seen=now)
            .execution_options(synchronize_session=False)
        )
        dbsession.execute(
            update(RoomMember)
            .where(RoomMember.peer.in_(chunk), RoomMember.left_at.is_(None))
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
    mark_changed(dbsession)


def stale_before(registry, now):
    limits = registry["realtime_limits"]
    return now - timedelta(seconds=STALE_BEATS * limits.presence_seconds)


def expire(request, now=None):
    """The worker job (``consultroom.jobs.hooks``): the organisation's
    sockets that no process marked lately are gone; how many sockets."""
    now = now or utcnow()
    dbsession = request.dbsession
    organisation_id = request.organisation.id
    cutoff = stale_before(request.registry, now)
    events = Events(request.registry["realtime_limits"], request)
    visits = dbsession.execute(
        select(Visit.id, Visit.peer, Visit.last_seen).where(
            Visit.organisation_id == organisation_id,
            Visit.connected,
            func.coalesce(Visit.last_seen, Visit.arrived_at) < cutoff,
        )
    ).all()
    for visit_id, peer, last_seen in visits:
        live.leave(dbsession, visit_id, peer, events, now=last_seen or cutoff)
    members = dbsession.scalars(
        select(RoomMember.peer)
        .join(Room, Room.id == RoomMember.room_id)
        .where(
            Room.organisation_id == organisation_id,
            RoomMember.left_at.is_(None),
            func.coalesce(RoomMember.seen_at, RoomMember.joined_at) < cutoff,
        )
    ).all()
    for peer in members:
        rooms.leave(dbsession, peer, events)
    events.finish(dbsession)
    for channel, message in events.messages:
        publish_after_commit(request, channel, message)
    return len({peer for _id, peer, _seen in visits} | set(members))


def includeme(config):
    # Called by the realtime heartbeat of every app process.
    door(config.registry).presence.append(mark)
