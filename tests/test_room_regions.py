"""The room's doors, tried with the roomkit test plugin: its toolbar button,
side-panel tab, overlay and script on the staff room, the guest's page and
the client's waiting page (per role), its badge on the staff's live waiting
list, and its realtime message type; none of them for an organisation
without the plugin, whose socket gets the answer of an unknown type."""

import pytest
from room_support import open_room

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.appointments.service import update_appointment
from consultroom.db import utcnow
from consultroom.plugins.models import PluginEnablement
from consultroom.realtime import message_bus, user_channel
from consultroom.room.models import RoomInvite
from consultroom.waitingroom.models import WAITING, Visit

from clientmail_support import org_request
from realtime_support import client_socket, staff_socket
from realtime_support import consultation as in_room

BUTTON = 'data-room-button="roomkit.ping"'
TAB = 'data-room-tab="roomkit"'
OVERLAY = 'data-room-overlay="roomkit"'
SCRIPT = 'src="/roomkit-static/roomkit.js"'


@pytest.fixture
def consultation(make_organisation, make_user, dbsession):
    """``make(plugin_on)``: an organisation, with a practitioner, an
    appointment starting now, and an open room with a guest invitation."""

    def make(subdomain, enable_plugin=None):
        org = make_organisation(subdomain)
        if enable_plugin:
            enable_plugin(org, "roomkit")
        doctor = make_user(org, role=Role.practitioner)
        appointment, room = open_room(dbsession, org, doctor)
        invite = RoomInvite(room_id=room.id, name="Guest", email="guest@example.org")
        dbsession.add(invite)
        dbsession.flush()
        return doctor, appointment, room, invite

    return make


def _pages(webtest, login, subdomain, doctor, appointment, room, invite):
    staff = webtest(subdomain)
    login(staff, doctor)
    return {
        "staff": staff.get(f"/room/{room.id}").text,
        "guest": webtest(subdomain).get(f"/join/{invite.token}").text,
        "client": webtest(subdomain).get(f"/c/{appointment.token}").text,
    }


def test_the_plugins_regions_are_on_the_room_pages_for_each_role(
    webtest, login, consultation, enable_plugin
):
    pages = _pages(webtest, login, "on", *consultation("on", enable_plugin))
    for role in ("staff", "client"):
        page = pages[role]
        assert all(part in page for part in (BUTTON, TAB, OVERLAY, SCRIPT)), role
        assert f"You are the {role}." in page
        # The plugin's script runs after the core's, which makes the socket.
        assert page.index(SCRIPT) > page.index('src="/static/js/')
    # The plugin shows guests its overlay only.
    guest = pages["guest"]
    assert OVERLAY in guest and SCRIPT in guest
    assert BUTTON not in guest and TAB not in guest


def test_nothing_of_the_plugin_where_it_is_not_enabled(webtest, login, consultation):
    pages = _pages(webtest, login, "off", *consultation("off"))
    for role, page in pages.items():
        assert "roomkit" not in page, role
        # The core's own regions are there.
        assert 'data-room-tab="files"' in page and 'data-action="microphone"' in page, role
    webtest("off").get("/roomkit-static/roomkit.js", status=404)


def test_the_staff_room_has_the_live_waiting_count(webtest, login, consultation):
    doctor, _appointment, room, invite = consultation("count")
    staff = webtest("count")
    login(staff, doctor)
    page = staff.get(f"/room/{room.id}").html
    count = page.select_one("[data-room-waiting]")
    assert count is not None and count.select_one("[data-waiting-count]") is not None
    announce = page.select_one("[data-waiting-announce]")
    assert announce["aria-live"] == "polite" and announce["role"] == "status"
    assert page.select_one("[data-doorbell]") is not None
    guest = webtest("count").get(f"/join/{invite.token}").html
    assert guest.select_one("[data-room-waiting]") is None


@pytest.mark.parametrize("plugin_on", [True, False])
def test_a_plugins_change_sends_the_entry_again_with_its_badges(
    app, consultation, enable_plugin, dbsession, plugin_on
):
    """roomkit shows the appointment's message as a badge, and calls
    live.entry_changed when it changes: the waiting lists (listening on the
    practitioner's channel) get the entry with the new badges after the
    commit; without the plugin nothing is sent."""
    subdomain = f"resend{int(plugin_on)}"
    doctor, appointment, _room, _invite = consultation(
        subdomain, enable_plugin if plugin_on else None
    )
    dbsession.add(
        Visit(
            organisation_id=appointment.organisation_id,
            appointment_id=appointment.id,
            practitioner_id=doctor.id,
            state=WAITING,
            arrived_at=utcnow(),
            connected=True,
        )
    )
    dbsession.flush()
    heard = []
    bus = message_bus(app.registry)
    bus.subscribe(user_channel(doctor.id), heard.append)
    try:
        with org_request(app, subdomain) as request:
            changed = request.dbsession.get(Appointment, appointment.id)
            update_appointment(request, changed, message="Bring your list")
    finally:
        bus.unsubscribe(user_channel(doctor.id), heard.append)
    if not plugin_on:
        assert heard == []
        return
    [message] = heard
    assert message["type"] == "_entry"
    assert message["entry"]["annotations"] == [
        {"text": f"Room kit #{appointment.id}", "tone": "ok"},
        {"text": "Bring your list", "tone": "warning"},
    ]


# -- over the websocket (a real server) -------------------------------------------------


def _org(server, plugin_on):
    org = server.organisation()
    if plugin_on:
        server.add(PluginEnablement(organisation_id=org.id, plugin="roomkit", enabled=True))
    return org


def test_the_waiting_list_carries_the_plugins_badges_only_where_it_is_enabled(server):
    for plugin_on in (True, False):
        org = _org(server, plugin_on)
        doctor = server.user(org)
        _browser, staff = staff_socket(server, org, doctor)
        assert staff.expect("waiting_list")["entries"] == []
        appointment = server.appointment(org, doctor)
        client = client_socket(server, org, appointment)
        client.expect("waiting")
        # The arrival's delta, then the full list, both carry the badge.
        delta = staff.expect("waiting_delta")
        expected = [{"text": f"Room kit #{appointment.id}", "tone": "ok"}] if plugin_on else []
        assert delta["entry"]["annotations"] == expected
        _browser, other = staff_socket(server, org, doctor)
        [entry] = other.expect("waiting_list")["entries"]
        assert entry["annotations"] == expected


def test_a_ping_in_the_room_is_answered_and_reaches_everyone(server):
    org = _org(server, True)
    doctor = server.user(org, name="Dr. Ping")
    _browser, staff, client, _appointment, _room = in_room(server, org, doctor)
    staff.send({"type": "roomkit.ping"})
    assert staff.expect("roomkit.pong") == {"type": "roomkit.pong", "role": "staff"}
    assert client.expect("roomkit.pinged")["name"] == "Dr. Ping"
    assert staff.expect("roomkit.pinged")["name"] == "Dr. Ping"
    client.send({"type": "roomkit.ping"})
    assert client.expect("roomkit.pong")["role"] == "client"


def test_a_ping_outside_a_room_is_refused(server):
    org = _org(server, True)
    _browser, staff = staff_socket(server, org, server.user(org))
    staff.send({"type": "roomkit.ping"})
    assert staff.expect("error")["code"] == "forbidden"


def test_without_the_plugin_its_type_gets_the_answer_of_an_unknown_type(server):
    """Not "forbidden", nor any other sign that the type exists elsewhere:
    the same error as a type nobody registered, apart from the name."""
    org = _org(server, False)
    _browser, staff, *_rest = in_room(server, org, server.user(org))
    staff.send({"type": "roomkit.ping"})
    gated = staff.expect("error")
    staff.send({"type": "roomkat.ping"})
    unknown = staff.expect("error")
    assert gated == {
        **unknown,
        "message": unknown["message"].replace("roomkat.ping", "roomkit.ping"),
    }
    assert gated["code"] == "unknown_type"
