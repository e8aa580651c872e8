"""Consultation rooms: who may enter, who is in them, and their end.

Like consultroom.waitingroom.live, these functions work in the caller's
transaction and add the bus messages to publish after the commit to an
``Events``. Calling a client in claims the visit in the waiting room
(``live.claim``) and opens the room here.

The consultation's moments (room opened, client admitted, room ended) are
announced to the plugins through their hooks, in the same transaction;
their ``request`` is the socket's. A client with unfinished admission steps
(consultroom.appointments.admission) is not let in. A staff member entering
or leaving a room is told to the organisation's walk-in widgets (busy).
"""

from sqlalchemy import select, update
from zope.sqlalchemy import mark_changed

from consultroom.appointments import admission
from consultroom.audit import record
from consultroom.db import utcnow
from consultroom.realtime import client_channel, room_channel, walk_in_changed
from consultroom.realtime.hooks import current_hooks
from consultroom.room.models import Room, RoomInvite, RoomMember, SharedFile
from consultroom.waitingroom import live
from consultroom.waitingroom.models import IN_ROOM

MAX_PEERS = 6
# The roles of people in a room. A member of another role is a plugin's
# machine (the caption worker): it takes no person's place, though it is
# refused like a person when the people fill the room.
PEOPLE = frozenset({"staff", "client", "guest"})


def open_room_of(dbsession, organisation_id, room_id):
    """Room ``room_id`` of this organisation if it is still open, else None."""
    if not isinstance(room_id, str) or len(room_id) > 43:
        return None
    return dbsession.scalar(
        select(Room).where(
            Room.id == room_id, Room.organisation_id == organisation_id, Room.ended_at.is_(None)
        )
    )


def open_room(request, appointment, staff):
    """The appointment's open room, or a new one."""
    dbsession = request.dbsession
    room = dbsession.scalar(
        select(Room).where(Room.appointment_id == appointment.id, Room.ended_at.is_(None))
    )
    if room is None:
        room = Room(
            organisation_id=appointment.organisation_id,
            appointment_id=appointment.id,
            created_by_id=staff.id,
            started_at=utcnow(),
        )
        dbsession.add(room)
        dbsession.flush()
        current_hooks(request).consultroom_room_opened(request=request, room=room)
    return room


def admit(request, visit, staff, events):
    """Open the room of the called ``visit`` and let its client in; refused
    (live.LiveError, which aborts the claim) while the client has admission
    steps to finish."""
    appointment = visit.appointment
    pending = admission.unfinished(request, appointment)
    if pending:
        raise live.LiveError(admission.UNFINISHED, admission.staff_refusal(appointment, pending))
    room = open_room(request, appointment, staff)
    live.admitted(request.dbsession, visit, room.id, staff, events)
    current_hooks(request).consultroom_client_admitted(
        request=request, appointment=appointment, room=room
    )
    return room


def call_in(request, staff, visit_id, events):
    """Claim waiting visit ``visit_id`` for ``staff`` and open its room.
    Returns the Room; raises live.ClaimLost or live.LiveError. The claim
    comes first (the transaction's first statement decides a race); a
    refusal after it rolls it back."""
    return admit(request, live.claim(request.dbsession, staff, visit_id), staff, events)


def force_start(request, staff, appointment_id, events):
    """Open the room of one of ``staff``'s appointments, client or not."""
    dbsession = request.dbsession
    visit = live.visit_to_start(dbsession, staff, appointment_id)
    if visit.state == IN_ROOM:
        return dbsession.get(Room, visit.room_id)
    return admit(request, visit, staff, events)


def may_enter(room, user_id):
    """Staff enter a room they opened or one of their own appointments'."""
    appointment = room.appointment
    return room.created_by_id == user_id or (
        appointment is not None and appointment.practitioner_id == user_id
    )


def invite_by_token(dbsession, organisation_id, token):
    """The invitation with ``token`` into an open room of this organisation."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    return dbsession.scalar(
        select(RoomInvite)
        .join(Room)
        .where(
            RoomInvite.token == token,
            Room.organisation_id == organisation_id,
            Room.ended_at.is_(None),
        )
    )


def present_members(dbsession, room_id):
    return dbsession.scalars(
        select(RoomMember)
        .where(RoomMember.room_id == room_id, RoomMember.left_at.is_(None))
        .order_by(RoomMember.joined_at)
    ).all()


def peer_info(member):
    return {"peer": member.peer, "name": member.name, "role": member.role}


class RoomFull(Exception):
    pass


def _same_person(member, role, user_id):
    """Whether ``member`` is an earlier socket of whoever joins now: the room's
    one client, or the same staff member (a reload, or a process that died
    without marking its sockets as gone)."""
    if role == "client":
        return member.role == "client"
    return user_id is not None and member.user_id == user_id


def join(dbsession, room, peer, role, name, user_id, events):
    """Admit socket ``peer`` into ``room``; the peers already there. Refused
    (``RoomFull``) when ``MAX_PEERS`` people are there already."""
    others = []
    for member in present_members(dbsession, room.id):
        if member.peer == peer:
            continue
        if _same_person(member, role, user_id):
            member.left_at = utcnow()
            events.add(room_channel(room.id), {"type": "peer_left", "peer": member.peer})
        else:
            others.append(member)
    if sum(1 for other in others if other.role in PEOPLE) >= MAX_PEERS:
        raise RoomFull()
    member = dbsession.get(RoomMember, peer)
    if member is None:
        member = RoomMember(
            peer=peer, room_id=room.id, role=role, name=name, user_id=user_id, joined_at=utcnow()
        )
        dbsession.add(member)
    member.left_at = None
    dbsession.flush()
    events.add(room_channel(room.id), {"type": "peer_joined", **peer_info(member)})
    if user_id is not None:
        events.add(*walk_in_changed(room.organisation_id))
    return [peer_info(m) for m in others]


def leave(dbsession, peer, events):
    """Socket ``peer`` left its room (closed, sent back, or the room ended)."""
    result = dbsession.execute(
        update(RoomMember)
        .where(RoomMember.peer == peer, RoomMember.left_at.is_(None))
        .values(left_at=utcnow())
        .returning(RoomMember.room_id, RoomMember.user_id)
    )
    mark_changed(dbsession)
    for room_id, user_id in result.all():
        events.add(room_channel(room_id), {"type": "peer_left", "peer": peer})
        room = dbsession.get(Room, room_id) if user_id is not None else None
        if room is not None:
            events.add(*walk_in_changed(room.organisation_id))


def files_of(dbsession, room_id):
    return dbsession.scalars(
        select(SharedFile).where(SharedFile.room_id == room_id).order_by(SharedFile.id)
    ).all()


def file_info(shared):
    return {
        "id": shared.id,
        "name": shared.name,
        "size": shared.size,
        "url": f"/room/{shared.room_id}/files/{shared.id}",
    }


def end(request, room, follow_up, events, actor=None):
    """End the consultation in ``room``: by its staff member ``actor``, or
    without one by the worker, for a room left open (the audit trail says
    which). Returns the paths of its files, to delete from disk after the
    commit (their rows go now)."""
    dbsession = request.dbsession
    now = utcnow()
    room.ended_at = now
    left_open = {} if actor is not None else {"left_open": True}
    record(request, "room.end", "room", room.id, actor=actor, **left_open)
    visit = live.end_visit(dbsession, room.id, events)
    dbsession.execute(
        update(RoomMember)
        .where(RoomMember.room_id == room.id, RoomMember.left_at.is_(None))
        .values(left_at=now)
    )
    paths = remove_files(dbsession, room)
    message = {"type": "_ended", "room": room.id, "follow_up": follow_up}
    events.add(room_channel(room.id), message)
    events.add(*walk_in_changed(room.organisation_id))  # its staff are free again
    if visit is not None:
        events.add(client_channel(visit.appointment_id), message)
    current_hooks(request).consultroom_room_ended(request=request, room=room)
    return paths


def remove_files(dbsession, room):
    """Delete the rows of ``room``'s files; their paths, for the disk."""
    files = files_of(dbsession, room.id)
    for shared in files:
        dbsession.delete(shared)
    room.cleaned_at = utcnow()
    dbsession.flush()
    mark_changed(dbsession)
    return [shared.path for shared in files]
