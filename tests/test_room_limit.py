"""A room holds at most MAX_PEERS people; a plugin's machine peer (the
caption worker, role "captions") takes no person's place, but is refused
like a person once the people fill the room."""

from datetime import timedelta

import pytest

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.realtime.events import Events
from consultroom.room import service as rooms
from consultroom.room.models import Room


@pytest.fixture
def room(dbsession, make_organisation, make_user):
    org = make_organisation("acme")
    doctor = make_user(org, role=Role.practitioner)
    appointment = Appointment(
        organisation_id=org.id,
        client=Client(organisation_id=org.id, initials="A.", last_name="Bakker"),
        practitioner=doctor,
        starts_at=utcnow() + timedelta(minutes=2),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    opened = Room(organisation_id=org.id, appointment_id=appointment.id, created_by_id=doctor.id)
    dbsession.add(opened)
    dbsession.flush()
    return opened


def _join(dbsession, room, peer, role="guest"):
    return rooms.join(dbsession, room, peer, role, peer, None, Events())


def test_the_room_refuses_a_person_past_the_limit(dbsession, room):
    for n in range(rooms.MAX_PEERS):
        _join(dbsession, room, f"guest-{n}")
    with pytest.raises(rooms.RoomFull):
        _join(dbsession, room, "one-too-many")


def test_a_machine_peer_takes_no_persons_place(dbsession, room):
    _join(dbsession, room, "captions-worker", role="captions")
    for n in range(rooms.MAX_PEERS):
        _join(dbsession, room, f"guest-{n}")
    present = {m.peer for m in rooms.present_members(dbsession, room.id)}
    assert len(present) == rooms.MAX_PEERS + 1 and "captions-worker" in present
    with pytest.raises(rooms.RoomFull):
        _join(dbsession, room, "one-too-many")


def test_a_machine_peer_is_refused_when_the_people_fill_the_room(dbsession, room):
    for n in range(rooms.MAX_PEERS):
        _join(dbsession, room, f"guest-{n}")
    with pytest.raises(rooms.RoomFull):
        _join(dbsession, room, "captions-worker", role="captions")
