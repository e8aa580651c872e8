"""Extra participants over real websockets: with direct join a participant
waits on "not started" and enters the room by themselves when the client is
admitted (or at once, arriving later); with the waiting option they wait in
the waiting room, are named on the client's entry in the staff's list, and
come in with the client on call-in. Another organisation's token is refused."""

import time

from sqlalchemy import select

from consultroom.appointments.models import AppointmentParticipant
from consultroom.clients.models import Participant

from realtime_support import Browser, client_socket, consultation, refused, staff_socket


def add_participant(server, org, appointment, name):
    participant = server.add(
        Participant(organisation_id=org.id, initials="", last_name=name, email="p@example.org")
    )
    server.add(AppointmentParticipant(appointment_id=appointment.id, participant_id=participant.id))
    [(token,)] = server.query(
        select(AppointmentParticipant.token).where(
            AppointmentParticipant.participant_id == participant.id
        )
    )
    return token


def participant_socket(server, org, token):
    socket = Browser(server.port, org).socket()
    socket.hello("participant", token)
    return socket


def wait_for_entry(staff, predicate, timeout=5):
    deadline = time.time() + timeout
    while True:
        listing = staff.expect("waiting_list", timeout=max(0.1, deadline - time.time()))
        if listing["entries"] and predicate(listing["entries"][0]):
            return listing["entries"][0]


def test_direct_join_waits_for_the_client_then_enters_the_room(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    daughter = add_participant(server, org, appointment, "Daughter")
    tolk = add_participant(server, org, appointment, "Tolk")
    early = participant_socket(server, org, daughter)
    assert early.expect("waiting")["arrival"] == "not_started"

    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, staff = staff_socket(server, org, doctor)
    entry = wait_for_entry(staff, lambda e: e["appointment_id"] == appointment.id)
    assert entry["annotations"] == []  # a direct participant is not on the waiting list
    staff.send({"type": "call_in", "visit": entry["id"]})
    room = staff.expect("claimed")["room"]
    assert client.expect("admitted")["room"] == room
    admitted = early.expect("admitted")
    assert admitted["room"] == room and admitted["ice_servers"]
    staff.send({"type": "join", "room": room})
    names = {p["name"]: p["role"] for p in staff.expect("room")["peers"]}
    assert names == {"J. Jansen": "client", "Daughter": "guest"}

    # Arriving once the consultation runs: straight in.
    late = participant_socket(server, org, tolk)
    joined = late.expect("admitted")
    assert joined["room"] == room and len(joined["peers"]) == 3
    while early.expect("peer_joined")["name"] != "Tolk":
        pass

    # Signals reach the others in the room.
    late.send({"type": "signal", "to": staff.peer, "data": {"sdp": "x"}})
    assert staff.expect("signal")["from"] == late.peer

    # The end reaches them too.
    staff.send({"type": "end", "room": room})
    assert early.expect("ended")["follow_up"] == "Thank you, see you next week."
    late.expect("ended")


def test_waiting_participants_are_listed_and_come_in_with_the_client(server):
    org = server.organisation(participants_join="waiting")
    doctor = server.user(org, name="Dr Waiting")
    appointment = server.appointment(org, doctor, minutes=-10)
    token = add_participant(server, org, appointment, "Home care")
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    nurse = participant_socket(server, org, token)
    assert nurse.expect("waiting")["arrival"] == "late"  # as the client is told
    entry = wait_for_entry(staff, lambda e: e["annotations"])
    assert [a["text"] for a in entry["annotations"]] == ["Waiting with: Home care"]

    staff.send({"type": "call_in", "visit": entry["id"]})
    room = staff.expect("claimed")["room"]
    assert client.expect("admitted")["room"] == room
    assert nurse.expect("admitted")["room"] == room
    [(peer,)] = server.query(
        select(AppointmentParticipant.waiting_peer).where(AppointmentParticipant.token == token)
    )
    assert peer is None  # no longer waiting


def test_a_participant_who_leaves_the_waiting_room_is_no_longer_named(server):
    org = server.organisation(participants_join="waiting")
    doctor = server.user(org)
    appointment = server.appointment(org, doctor)
    token = add_participant(server, org, appointment, "Son")
    _browser, staff = staff_socket(server, org, doctor)
    client_socket(server, org, appointment).expect("waiting")
    son = participant_socket(server, org, token)
    son.expect("waiting")
    wait_for_entry(staff, lambda e: e["annotations"])
    son.close()
    wait_for_entry(staff, lambda e: not e["annotations"])


def test_another_organisations_participant_token_is_refused(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    token = add_participant(server, org, appointment, "Daughter")
    other = server.organisation()
    socket = Browser(server.port, other).socket()
    socket.send({"type": "hello", "role": "participant", "token": token})
    refused(socket)


def test_a_participant_shares_and_downloads_files_in_their_appointments_room(server, clinic):
    from test_room_files import PDF, upload

    org, doctor = clinic
    server.set_options(org, file_sharing=True)
    browser, staff, _client, appointment, room = consultation(server, org, doctor)
    token = add_participant(server, org, appointment, "Interpreter")
    status, info = upload(Browser(server.port, org), room, "notes.pdf", PDF, token=token)
    assert status == 200, info
    assert staff.expect("file")["name"] == "notes.pdf"
    # The participant of another appointment is nobody in this room.
    other = add_participant(server, org, server.appointment(org, doctor), "Stranger")
    status, _answer = upload(Browser(server.port, org), room, "x.pdf", PDF, token=other)
    assert status == 404
