"""Admission steps on the server's websocket, with the consent test plugin:
a client whose consent is not given is refused at hello (no visit, in
nobody's waiting list), and staff cannot call them in or force-start their
appointment; once they consent, all works. Over real websockets against a
real server process (realtime_support)."""

from consultroom_consent import ConsentGiven
from sqlalchemy import select
from test_waitingroom_live import entry_of, wait_for_list

from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import Room
from consultroom.waitingroom.models import Visit

from realtime_support import Browser, client_socket, staff_socket


def enable_consent(server, org):
    server.add(PluginEnablement(organisation_id=org.id, plugin="consent", enabled=True))


def consent(server, appointment):
    # What the step's page stores (its HTTP side is test_admission_steps.py).
    server.add(
        ConsentGiven(
            organisation_id=appointment.organisation_id,
            appointment_id=appointment.id,
            client_id=appointment.client_id,
        )
    )


def visits(server, appointment):
    return server.query(select(Visit.state).where(Visit.appointment_id == appointment.id))


def rooms(server, appointment):
    return server.query(select(Room.id).where(Room.appointment_id == appointment.id))


def test_the_socket_refuses_a_client_with_an_unfinished_step(server, clinic):
    org, doctor = clinic
    enable_consent(server, org)
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    appointment = server.appointment(org, doctor)
    socket = server_client(server, org)
    socket.send({"type": "hello", "role": "client", "token": appointment.token})
    error = socket.expect("error")
    assert error["code"] == "steps_unfinished"
    assert "Consent form" in error["message"]
    assert socket.close_code() == 4401
    assert socket.close_reason == "steps_unfinished"
    assert not any(m["type"] in ("welcome", "waiting") for m in socket.received)
    assert visits(server, appointment) == []  # never arrived
    staff.drain(0.5)
    assert all(m["count"] == 0 for m in staff.received if m["type"] == "waiting_list")

    consent(server, appointment)
    assert client_socket(server, org, appointment).expect("waiting")
    assert entry_of(wait_for_list(staff, lambda m: m["count"] == 1), appointment)


def server_client(server, org):
    """A client's socket that has not said hello yet."""
    return Browser(server.port, org).socket()


def test_call_in_and_force_start_refuse_an_unfinished_step(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    waiting = server.appointment(org, doctor, name="Waiting")
    absent = server.appointment(org, doctor, minutes=1, name="Absent")
    client = client_socket(server, org, waiting)
    client.expect("waiting")  # arrived before the organisation enabled consent
    visit = entry_of(wait_for_list(staff, lambda m: m["count"] == 1), waiting)["id"]
    enable_consent(server, org)

    staff.send({"type": "call_in", "visit": visit})
    error = staff.expect("error")
    assert error["code"] == "steps_unfinished"
    assert error["message"] == (
        "J. Waiting has not finished Consent form yet: they cannot be called in until then."
    )
    staff.send({"type": "force_start", "appointment": absent.id})
    error = staff.expect("error")
    assert error["code"] == "steps_unfinished" and "J. Absent" in error["message"]
    client.drain(0.3)
    assert "admitted" not in [m["type"] for m in client.received]
    assert visits(server, waiting) == [("waiting",)]  # the claim was rolled back
    assert visits(server, absent) == []
    assert rooms(server, waiting) == rooms(server, absent) == []

    consent(server, waiting)
    consent(server, absent)
    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    assert client.expect("admitted")["room"] == room
    staff.send({"type": "force_start", "appointment": absent.id})
    assert staff.expect("started")["room"] != room


def test_another_organisations_ids_are_refused(server, clinic):
    org, doctor = clinic
    enable_consent(server, org)
    other = server.organisation(force_start=True)
    enable_consent(server, other)
    theirs = server.appointment(other, server.user(other))
    consent(server, theirs)
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    staff.send({"type": "force_start", "appointment": theirs.id})
    assert staff.expect("error")["code"] == "not_found"
    socket = server_client(server, org)
    socket.send({"type": "hello", "role": "client", "token": theirs.token})
    assert socket.expect("error")["code"] == "unauthorized"
    assert visits(server, theirs) == [] and rooms(server, theirs) == []
