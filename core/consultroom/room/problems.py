"""Failed connections reported by the browsers: a consultation's media
connection that failed for good (the room's script tried an ICE restart
first), and a network test that could not connect. They feed the usage
report's "connection problems"; a socket reports each kind at most once
per room, so a flapping connection is one problem, not hundreds."""

from consultroom.room.models import ConnectionProblem

ROOM = "room"
NETWORK_TEST = "network_test"


def record(dbsession, organisation_id, kind, role, appointment_id=None, user_id=None):
    dbsession.add(
        ConnectionProblem(
            organisation_id=organisation_id,
            kind=kind,
            role=role,
            appointment_id=appointment_id,
            user_id=user_id,
        )
    )
