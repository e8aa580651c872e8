"""A socket is in a room (``RoomRole.room``, subscribed to the room's
channel) only once its join committed: a join whose transaction aborts or
whose commit fails takes the socket out again, so that it neither hears the
room nor may signal into it (consultroom.room.sockets)."""

from types import SimpleNamespace

import pytest
import transaction

from consultroom.realtime import room_channel
from consultroom.room import service as rooms
from consultroom.room.sockets import RoomRole

ROOM = SimpleNamespace(id="room-1")

pytestmark = pytest.mark.sqlite_only  # no database


class _Connection:
    """What a role uses of its socket's connection here."""

    peer = "peer-1"

    def __init__(self):
        self.request = SimpleNamespace(tm=transaction.TransactionManager())
        self.channels = set()

    def subscribe(self, channel):
        self.channels.add(channel)

    def unsubscribe(self, channel):
        self.channels.discard(channel)


@pytest.fixture
def role(monkeypatch):
    # The join's rows and the state sent are another test's (tests/test_realtime_ws.py).
    monkeypatch.setattr(rooms, "join", lambda *args: [])
    role = RoomRole(_Connection())
    monkeypatch.setattr(role, "room_state", lambda *args: {})
    return role


def _enter(role):
    role.enter(None, None, ROOM, "Dr Who")
    assert role.room == ROOM.id and role.conn.channels == {room_channel(ROOM.id)}


def test_a_join_that_is_aborted_leaves_the_socket_outside(role):
    with pytest.raises(RuntimeError), role.conn.request.tm:
        _enter(role)
        raise RuntimeError("refused after the join")
    assert role.room is None and role.conn.channels == set()


def test_a_join_whose_commit_fails_leaves_the_socket_outside(role):
    class FailingCommit:
        def sortKey(self):  # noqa: N802 (the data manager interface)
            return "failing"

        def tpc_begin(self, txn):
            pass

        def commit(self, txn):
            raise RuntimeError("the database refused the commit")

        def abort(self, txn):
            pass

        tpc_abort = tpc_vote = tpc_finish = abort

    with pytest.raises(RuntimeError), role.conn.request.tm as txn:
        txn.join(FailingCommit())
        _enter(role)
    assert role.room is None and role.conn.channels == set()


def test_a_committed_join_stays_and_joining_again_changes_nothing(role):
    with role.conn.request.tm:
        _enter(role)
    assert role.room == ROOM.id
    # The same room again, in a transaction that then fails: still in it.
    with pytest.raises(RuntimeError), role.conn.request.tm:
        _enter(role)
        raise RuntimeError("refused after the join")
    assert role.room == ROOM.id and role.conn.channels == {room_channel(ROOM.id)}
