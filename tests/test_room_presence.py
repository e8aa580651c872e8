"""Presence that outlives a dead process (consultroom.room.presence): every
process marks its open sockets' rows; the worker job disconnects the visits
and removes the room members that nobody marked for three periods, and tells
the staff's lists and the room; rows still marked are left alone; each
organisation's run touches its own rows only."""

from datetime import timedelta
from itertools import count

from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.jobs import in_organisation
from consultroom.realtime import message_bus, room_channel, user_channel
from consultroom.room import presence
from consultroom.room.models import Room, RoomMember
from consultroom.waitingroom.models import WAITING, Visit

SLOTS = count()


def _waiting(dbsession, org, doctor, peer, last_seen):
    client = Client(organisation_id=org.id, last_name=f"Client {peer}", email="c@example.org")
    dbsession.add(client)
    dbsession.flush()
    appointment = Appointment(
        organisation_id=org.id,
        client_id=client.id,
        practitioner_id=doctor.id,
        starts_at=last_seen + timedelta(minutes=next(SLOTS)),  # one slot each
    )
    dbsession.add(appointment)
    dbsession.flush()
    visit = Visit(
        organisation_id=org.id,
        appointment_id=appointment.id,
        practitioner_id=doctor.id,
        state=WAITING,
        arrived_at=last_seen,
        peer=peer,
        connected=True,
        last_seen=last_seen,
    )
    dbsession.add(visit)
    dbsession.flush()
    return visit


def _member(dbsession, room, peer, joined_at):
    member = RoomMember(peer=peer, room_id=room.id, role="guest", name=peer, joined_at=joined_at)
    dbsession.add(member)
    dbsession.flush()
    return member


def _room(dbsession, org, now):
    room = Room(organisation_id=org.id, started_at=now - timedelta(minutes=20))
    dbsession.add(room)
    dbsession.flush()
    return room


def test_a_process_marks_only_its_own_open_sockets(dbsession, make_organisation, make_user):
    org = make_organisation("alpha")
    doctor = make_user(org)
    then, now = utcnow() - timedelta(minutes=10), utcnow().replace(microsecond=0)
    mine = _waiting(dbsession, org, doctor, "p-mine", then)
    other = _waiting(dbsession, org, doctor, "p-other", then)
    room = _room(dbsession, org, now)
    in_room, elsewhere = (
        _member(dbsession, room, "p-in", then),
        _member(dbsession, room, "p-x", then),
    )

    presence.mark(dbsession, ["p-mine", "p-in", "p-unknown"], now)

    dbsession.expire_all()
    assert dbsession.get(Visit, mine.id).last_seen == now
    assert dbsession.get(Visit, other.id).last_seen != now
    assert dbsession.get(RoomMember, in_room.peer).seen_at == now
    assert dbsession.get(RoomMember, elsewhere.peer).seen_at is None


def test_the_worker_ends_the_sockets_nobody_marked(app, dbsession, make_organisation, make_user):
    org, other_org = make_organisation("alpha"), make_organisation("beta")
    doctor, stranger = make_user(org), make_user(other_org)
    now = utcnow().replace(microsecond=0)
    # The default period is 30 s: three of them without a mark is gone.
    gone_at, fresh_at = now - timedelta(seconds=100), now - timedelta(seconds=60)
    gone = _waiting(dbsession, org, doctor, "p-gone", gone_at)
    fresh = _waiting(dbsession, org, doctor, "p-fresh", fresh_at)
    theirs = _waiting(dbsession, other_org, stranger, "p-theirs", gone_at)
    room = _room(dbsession, org, now)
    ghost = _member(dbsession, room, "p-ghost", gone_at)
    marked = _member(dbsession, room, "p-marked", gone_at)
    marked.seen_at = fresh_at
    dbsession.flush()
    heard = []
    bus = message_bus(app.registry)
    for channel in (room_channel(room.id), user_channel(doctor.id)):
        bus.subscribe(channel, lambda m, c=channel: heard.append((c, m)))

    assert in_organisation(app.registry, "alpha", lambda r: presence.expire(r, now)) == 2

    dbsession.expire_all()
    visit = dbsession.get(Visit, gone.id)
    assert not visit.connected and visit.left_at == gone_at  # its grace counts from then
    assert dbsession.get(Visit, fresh.id).connected
    assert dbsession.get(Visit, theirs.id).connected  # the beta run's, not alpha's
    assert dbsession.get(RoomMember, ghost.peer).left_at is not None
    assert dbsession.get(RoomMember, marked.peer).left_at is None
    assert (room_channel(room.id), {"type": "peer_left", "peer": "p-ghost"}) in heard
    # Its grace period ended long ago: it leaves the practitioner's list.
    [entry] = [m for c, m in heard if c == user_channel(doctor.id)]
    assert entry["type"] == "_gone" and entry["id"] == gone.id and entry["left"]
    assert in_organisation(app.registry, "alpha", lambda r: presence.expire(r, now)) == 0
    present = dbsession.scalars(select(RoomMember.peer).where(RoomMember.left_at.is_(None))).all()
    assert present == ["p-marked"]
