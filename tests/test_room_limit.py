"""A room holds at most MAX_PEERS people; a plugin's machine peer (the
caption worker, role "captions") takes no person's place, but is refused
like a person once the people fill the room."""

import pytest
from room_support import open_room

from consultroom.accounts.models import Role
from consultroom.realtime.events import Events
from consultroom.room import service as rooms


@pytest.fixture
def room(dbsession, make_organisation, make_user):
    org = make_organisation("acme")
    _appointment, opened = open_room(dbsession, org, make_user(org, role=Role.practitioner))
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
