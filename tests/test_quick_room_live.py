"""Quick consultations and empty rooms over real websockets: the
practitioner is in the room first, the client who opens the link is
admitted at once (never "waiting", on nobody's waiting list), and an empty
room takes a guest invited from inside it."""

import re

from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.room.models import RoomInvite

from realtime_support import Browser, client_socket, staff_socket


def started(browser, path, data):
    status, headers, page = browser.request(path, {"csrf_token": browser.csrf_token(), **data})
    assert status == 303, page
    return re.search(r"/room/([A-Za-z0-9_-]+)$", headers["Location"]).group(1)


def test_the_client_of_a_quick_consultation_comes_straight_in(server, clinic):
    org, doctor = clinic
    server.set_options(org, force_start=False)  # not needed: the room is the doctor's own
    client = server.add(
        Client(organisation_id=org.id, initials="A.", last_name="Bakker", email="a@example.org")
    )
    browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    room = started(browser, "/appointments/quick", {"client_id": client.id, "duration_minutes": 20})
    staff.send({"type": "join", "room": room})
    assert staff.expect("room")["peers"] == []
    status, _headers, page = browser.request(f"/room/{room}")
    token = re.search(rb'id="client-link" value="[^"]*/c/([A-Za-z0-9_-]+)"', page).group(1)
    visitor = Browser(server.port, org)
    assert visitor.request(f"/c/{token.decode()}")[0] == 200
    socket = visitor.socket()
    socket.hello("client", token.decode())
    admitted = socket.recv()
    assert admitted["type"] == "admitted" and admitted["room"] == room
    assert [p["role"] for p in admitted["peers"]] == ["staff"]
    assert staff.expect("peer_joined")["role"] == "client"
    staff.drain(0.5)
    lists = [m for m in staff.received if m["type"] == "waiting_list"]
    assert all(m["count"] == 0 for m in lists)
    assert "waiting" not in [m["type"] for m in socket.received]


def test_the_clients_list_button_and_its_client(server, clinic):
    org, doctor = clinic
    client = server.add(Client(organisation_id=org.id, last_name="Smit"))
    browser, staff = staff_socket(server, org, doctor)
    room = started(browser, f"/clients/{client.id}/consult", {})
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    [appointment] = server.query(select(Appointment).where(Appointment.client_id == client.id))
    socket = client_socket(server, org, appointment[0])
    assert socket.expect("admitted")["room"] == room
    assert staff.expect("peer_joined")["name"] == "Smit"


def test_an_empty_room_takes_an_invited_guest(server, clinic):
    org, doctor = clinic
    browser, staff = staff_socket(server, org, doctor)
    room = started(browser, "/room/new", {})
    staff.send({"type": "join", "room": room})
    assert staff.expect("room")["peers"] == []
    status, _headers, answer = browser.request(
        f"/room/{room}/participants",
        {"name": "Interpreter", "email": "i@example.org"},
        headers={"X-CSRF-Token": browser.csrf_token()},
    )
    assert status == 200, answer
    [(token,)] = server.query(select(RoomInvite.token).where(RoomInvite.room_id == room))
    guest = Browser(server.port, org).socket()
    guest.hello("guest", token)
    assert [p["role"] for p in guest.expect("room")["peers"]] == ["staff"]
    assert staff.expect("peer_joined")["name"] == "Interpreter"
    # Nobody else's: another practitioner cannot join it.
    _other_browser, other = staff_socket(server, org, server.user(org))
    other.send({"type": "join", "room": room})
    assert other.expect("error")["code"] == "not_found"
