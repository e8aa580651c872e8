"""An app process dies (SIGKILL: it clears nothing): the client it served
was in a consultation with a practitioner on the other process. Until the
dead process's presence expires the practitioner still has the client in
the room; once no mark came for three periods, ``consultroom worker --once``
takes the client out of the room (``peer_left`` reaches the practitioner on
the other process through Redis) and disconnects the visit. The client
reconnects to the living process and is back in the same room."""

import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from consultroom.cli import Environment
from consultroom.jobs import in_organisation
from consultroom.room import presence
from consultroom.room.models import RoomMember
from consultroom.waitingroom.models import Visit

from realtime_support import BIN, Browser, Server, database_url

PRESENCE = 0.5  # seconds between marks: stale after 1.5 s


@pytest.fixture
def two_processes(tmp_path):
    url, drop = database_url(tmp_path)
    server = Server(
        tmp_path,
        url,
        bus="redis",
        processes=2,
        settings={"realtime.presence_seconds": PRESENCE},
    ).start()
    yield server
    server.stop()
    drop()


def _expired_now(server, org):
    """The expiry job for ``org`` now, in this process (the worker's claim
    lets ``worker --once`` run it once a minute only)."""
    env = Environment(str(server.ini(server.ports[1])))
    try:
        return in_organisation(env.registry, org.subdomain, presence.expire)
    finally:
        env.close()


def _worker_once(server):
    """What one round of the worker printed, and its log (a job's failure)."""
    done = subprocess.run(
        [BIN / "consultroom", "-c", server.ini(server.ports[1]), "worker", "--once"],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout, done.stderr


def test_a_dead_process_clients_leave_the_room_and_come_back_through_another(two_processes):
    server = two_processes
    org = server.organisation()
    doctor = server.user(org)
    appointment = server.appointment(org, doctor)
    on_a, on_b = (Browser(port, org) for port in server.ports)
    client = on_a.socket()
    client.hello("client", appointment.token)
    client.expect("waiting")
    on_b.log_in(doctor)
    staff = on_b.socket()
    staff.hello("staff")
    listing = staff.expect("waiting_list")
    if not listing["count"]:
        listing = staff.expect("waiting_list")
    staff.send({"type": "call_in", "visit": listing["entries"][0]["id"]})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    assert [p["peer"] for p in staff.expect("room")["peers"]] == [client.peer]
    time.sleep(3 * PRESENCE)  # both processes have marked their sockets

    # Alive and marked: the job leaves them be.
    assert _expired_now(server, org) == 0

    server.processes[0].send_signal(signal.SIGKILL)
    server.processes[0].wait()
    time.sleep(4 * PRESENCE)
    printed, logged = _worker_once(server)
    assert "sockets expired: 1" in printed, logged  # its visit and its room member
    assert staff.expect("peer_left", timeout=10)["peer"] == client.peer
    [(connected,)] = server.query(
        select(Visit.connected).where(Visit.appointment_id == appointment.id)
    )
    assert connected is False
    assert server.query(
        select(RoomMember.peer).where(RoomMember.room_id == room, RoomMember.left_at.is_(None))
    ) == [(staff.peer,)]

    # The page reconnects, now to the living process: straight back into the room.
    again = on_b.socket()
    again.hello("client", appointment.token)
    assert again.expect("admitted")["room"] == room
    assert staff.expect("peer_joined")["peer"] == again.peer
    # The living process marks it: nothing more expires.
    time.sleep(4 * PRESENCE)
    assert _expired_now(server, org) == 0
