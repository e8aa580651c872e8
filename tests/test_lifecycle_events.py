"""The consultation's and the client's lifecycle hooks (room opened, client
admitted, room ended, client erased), seen by the consent test plugin (a
real installed distribution), which logs each call in the transaction of
the event: each fires once, at its moment, only for organisations that
enabled the plugin, and a hook that raises undoes the change. The room's
moments happen on websockets, against a real server process
(realtime_support); the erasure on the client's page and the REST API."""

from datetime import timedelta

import consultroom_consent
import pytest
from consultroom_consent import ConsentEvent, ConsentGiven
from sqlalchemy import select
from test_waitingroom_live import entry_of, wait_for_list

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.erasure import erase_client
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.hookspecs import hookimpl
from consultroom.plugins.models import PluginEnablement
from consultroom.room.models import Room
from consultroom.waitingroom.models import Visit

from clientmail_support import org_request
from clients_support import flashes, make_client, post
from realtime_support import client_socket, staff_socket

# -- the room's moments, over websockets


def logged(server, org):
    return [
        tuple(row)
        for row in server.query(
            select(
                ConsentEvent.event,
                ConsentEvent.appointment_id,
                ConsentEvent.room_id,
                ConsentEvent.client_id,
            )
            .where(ConsentEvent.organisation_id == org.id)
            .order_by(ConsentEvent.id)
        )
    ]


def with_consent(server, org, enabled=True, **kw):
    """An appointment of ``org`` whose client has consented, ``org``'s
    consent plugin switched as ``enabled`` says."""
    if enabled:
        server.add(PluginEnablement(organisation_id=org.id, plugin="consent", enabled=True))
    appointment = server.appointment(org, **kw)
    server.add(
        ConsentGiven(
            organisation_id=org.id,
            appointment_id=appointment.id,
            client_id=appointment.client_id,
        )
    )
    return appointment


def waiting_client(server, org, staff, appointment):
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    visit = entry_of(
        wait_for_list(
            staff, lambda m: any(e["appointment_id"] == appointment.id for e in m["entries"])
        ),
        appointment,
    )["id"]
    return client, visit


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "not-enabled"])
def test_each_room_moment_fires_once_at_its_moment(server, clinic, enabled):
    org, doctor = clinic
    appointment = with_consent(server, org, enabled, practitioner=doctor)
    a, c = appointment.id, appointment.client_id
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    client, visit = waiting_client(server, org, staff, appointment)
    arrived = [("client_arrived", a, None, c)]
    assert logged(server, org) == (arrived if enabled else [])
    # Once per arrival: the same client's new socket (a reload) is none.
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    assert logged(server, org) == (arrived if enabled else [])

    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    opened_and_admitted = [
        *arrived,
        ("room_opened", a, room, None),
        ("client_admitted", a, room, c),
    ]
    assert logged(server, org) == (opened_and_admitted if enabled else [])

    staff.send({"type": "join", "room": room})
    staff.expect("room")
    staff.send({"type": "send_back", "room": room})
    client.expect("sent_back")
    client.expect("waiting")
    staff.send({"type": "call_in", "visit": visit})
    assert staff.expect("claimed")["room"] == room  # the same open room: not opened again
    client.expect("admitted")
    admitted_again = [*opened_and_admitted, ("client_admitted", a, room, c)]
    assert logged(server, org) == (admitted_again if enabled else [])

    staff.send({"type": "join", "room": room})
    staff.expect("room")
    staff.send({"type": "end", "room": room})
    client.expect("ended")
    staff.expect("ended")
    staff.send({"type": "end", "room": room})  # ended already: refused, no second event
    staff.expect("error")
    assert logged(server, org) == (
        [*admitted_again, ("room_ended", a, room, None)] if enabled else []
    )


def test_force_start_opens_and_admits_before_the_client_comes(server, clinic):
    org, doctor = clinic
    appointment = with_consent(server, org, practitioner=doctor, minutes=1)
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    staff.send({"type": "force_start", "appointment": appointment.id})
    room = staff.expect("started")["room"]
    expected = [
        ("room_opened", appointment.id, room, None),
        ("client_admitted", appointment.id, room, appointment.client_id),
    ]
    assert logged(server, org) == expected
    # The client comes later and goes straight in: no second admission.
    assert client_socket(server, org, appointment).expect("admitted")["room"] == room
    assert logged(server, org) == expected


def test_a_failing_admission_hook_undoes_the_call_in(server, clinic):
    """The hooks run in the call-in's socket transaction: one that raises
    leaves the client waiting, no room, and no event."""
    org, doctor = clinic
    appointment = with_consent(
        server, org, practitioner=doctor, name=consultroom_consent.UNADMITTABLE
    )
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    client, visit = waiting_client(server, org, staff, appointment)
    staff.send({"type": "call_in", "visit": visit})
    assert staff.expect("error")["code"] == "internal"
    assert server.query(select(Visit.state).where(Visit.id == visit)) == [("waiting",)]
    assert server.query(select(Room.id).where(Room.appointment_id == appointment.id)) == []
    # The room_opened row went with the transaction; the arrival stays.
    assert logged(server, org) == [("client_arrived", appointment.id, None, appointment.client_id)]
    client.drain(0.3)
    assert "admitted" not in [m["type"] for m in client.received]


# -- the client's erasure, on the client's page and the API


@pytest.fixture
def erasable(make_organisation, make_user, enable_plugin, dbsession):
    """Per organisation ("on" enabled consent, "off" did not): an admin and
    the id of a client with a past appointment they consented to."""
    made = {}
    for subdomain in ("on", "off"):
        org = make_organisation(subdomain)
        admin = make_user(org, role=Role.org_admin)
        client = make_client(dbsession, org, "Jansen")
        appointment = Appointment(
            organisation_id=org.id,
            client=client,
            practitioner=admin,
            starts_at=utcnow().replace(microsecond=0) - timedelta(days=3),
            duration_minutes=20,
        )
        dbsession.add(appointment)
        dbsession.flush()
        dbsession.add(
            ConsentGiven(organisation_id=org.id, appointment_id=appointment.id, client_id=client.id)
        )
        dbsession.flush()
        made[subdomain] = (org, admin, client.id)
    enable_plugin(made["on"][0], "consent")
    return made


def client_exists(dbsession, client_id):
    return dbsession.scalar(select(Client.id).where(Client.id == client_id)) is not None


def erasure_seen(dbsession, org):
    """The consent rows left in ``org`` and the erasures the plugin logged."""
    dbsession.expire_all()
    consents = dbsession.scalars(
        select(ConsentGiven.client_id).where(ConsentGiven.organisation_id == org.id)
    ).all()
    erased = dbsession.scalars(
        select(ConsentEvent.client_id).where(
            ConsentEvent.organisation_id == org.id, ConsentEvent.event == "client_erased"
        )
    ).all()
    return consents, erased


def test_deleting_a_client_on_the_page_erases_the_plugins_data(webtest, login, erasable, dbsession):
    for subdomain in ("on", "off"):
        org, admin, client_id = erasable[subdomain]
        app = webtest(subdomain)
        login(app, admin)
        page = post(app, f"/clients/{client_id}/delete", {}, status=303).follow()
        assert flashes(page) == ["Jansen is deleted."]
        assert not client_exists(dbsession, client_id)
    assert erasure_seen(dbsession, erasable["on"][0]) == ([], [erasable["on"][2]])
    # Without the plugin its hook does not run: its rows stay.
    assert erasure_seen(dbsession, erasable["off"][0]) == ([erasable["off"][2]], [])


def test_deleting_a_client_through_the_api_erases_the_plugins_data(webtest, erasable, dbsession):
    org, _admin, client_id = erasable["on"]
    key = org.rotate_api_key()
    dbsession.flush()
    webtest("on").delete(
        f"/api/v1/clients/{client_id}", headers={"Authorization": f"Bearer {key}"}, status=204
    )
    assert erasure_seen(dbsession, org) == ([], [client_id])


def test_a_refused_deletion_erases_nothing(webtest, login, erasable, dbsession):
    org, admin, client_id = erasable["on"]
    dbsession.add(
        Appointment(
            organisation_id=org.id,
            client_id=client_id,
            practitioner=admin,
            starts_at=utcnow().replace(microsecond=0) + timedelta(days=3),
            duration_minutes=20,
        )
    )
    dbsession.flush()
    app = webtest("on")
    login(app, admin)
    page = post(app, f"/clients/{client_id}/delete", {}, status=303).follow()
    assert "cancel them first" in " ".join(flashes(page))
    assert erasure_seen(dbsession, org) == ([client_id], [])


def test_a_failing_erasure_hook_keeps_the_client(app, erasable, dbsession):
    """The hook runs in the deletion's transaction: raising undoes it all."""

    class Failing:
        @hookimpl
        def consultroom_client_erased(self, request, client):
            raise RuntimeError("eraser failed")

    org, _admin, client_id = erasable["on"]
    pm = app.registry.plugins.pm
    pm.register(Failing(), name="core:test-failing-eraser")
    try:
        with pytest.raises(RuntimeError, match="eraser failed"):
            with org_request(app, "on") as request:
                erase_client(request, request.dbsession.get(Client, client_id))
    finally:
        pm.unregister(name="core:test-failing-eraser")
    assert client_exists(dbsession, client_id)
    assert erasure_seen(dbsession, org) == ([client_id], [])
