"""The websocket against a real gevent-websocket server: authentication,
Origin, limits, heartbeat, flood, kick, and that nothing WebRTC reaches a
socket outside the room."""

import base64
import hashlib
import hmac
import html
import json
import re
import time

from consultroom.accounts.models import Role
from consultroom.plugins.models import PluginEnablement
from consultroom.realtime.turn import turn_credential
from consultroom.secretbox import box_from_settings
from consultroom.tenancy.options import seal

from realtime_support import Browser, client_socket, refused, staff_socket

WEBRTC_WORDS = ("sdp", "candidate", "ice_servers", "credential", "username")


# -- authentication --------------------------------------------------------------------


def test_staff_without_a_session_is_refused(server, clinic):
    org, _doctor = clinic
    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": "staff"})
    refused(socket)


def test_client_with_a_wrong_token_is_refused(server, clinic):
    org, _doctor = clinic
    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": "client", "token": "x" * 43})
    refused(socket)


def test_a_token_of_another_organisation_is_refused(server, clinic):
    org, _doctor = clinic
    other = server.organisation()
    appointment = server.appointment(other, server.user(other))
    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": "client", "token": appointment.token})
    refused(socket)


def test_a_session_of_another_organisation_is_refused(server, clinic):
    org, doctor = clinic
    other = server.organisation()
    browser = Browser(server.port, org).log_in(doctor)
    stranger = Browser(server.port, other)
    stranger.cookies = dict(browser.cookies)
    socket = stranger.socket()
    socket.send({"type": "hello", "role": "staff"})
    refused(socket)


def test_a_foreign_origin_is_closed_before_anything_is_read(server, clinic):
    org, doctor = clinic
    browser = Browser(server.port, org).log_in(doctor)
    socket = browser.socket(origin="https://evil.example")
    assert socket.close_code() == 1008
    assert socket.received == []


def test_no_hello_closes_the_socket(server, clinic):
    org, _doctor = clinic
    socket = Browser(server.port, org).socket()
    socket.send({"type": "call_in", "visit": 1})
    refused(socket)


def test_staff_get_their_waiting_list(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    listing = socket.expect("waiting_list")
    assert listing["count"] == 0 and listing["force_start"] is True


# -- robustness ------------------------------------------------------------------------


def test_malformed_and_oversized_messages_get_an_error_and_the_socket_works(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    for bad in ("not json", "[1, 2]", '{"no": "type"}', '{"type": 5}'):
        socket.send(bad)
        assert socket.expect("error")["code"] == "malformed"
    socket.send({"type": "call_in", "visit": "one"})
    assert socket.expect("error")["code"] == "malformed"
    socket.send({"type": "dance"})
    assert socket.expect("error")["code"] == "unknown_type"
    socket.send({"type": "note", "visit": 1, "text": "x" * 70000})
    assert socket.expect("error")["code"] == "too_large"
    socket.ws.send_binary(b"\x00" * 10)
    assert socket.expect("error")["code"] == "malformed"
    socket.send({"type": "ping"})
    socket.expect("pong")


def test_a_flood_is_throttled_then_closed(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    for _ in range(60):
        socket.send({"type": "ping"})
    assert socket.expect("error")["code"] == "rate_limited"
    assert sum(m["type"] == "pong" for m in socket.received) <= 45
    socket.flood()
    assert socket.close_code() == 4429


def test_frames_after_the_server_closed_the_socket_are_dropped_quietly(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    logged = len(server.log())
    socket.flood()
    assert socket.close_code() == 4429
    for _ in range(3):  # the reader was waiting for a frame when the writer closed
        socket.send({"type": "ping"})
        time.sleep(0.2)
    assert "Traceback" not in server.log()[logged:]


def test_a_close_reason_that_is_not_utf8_closes_with_1007_quietly(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    logged = len(server.log())
    socket.ws.send_close(1000, b"\xff\xfe")
    assert socket.close_code() == 1007
    time.sleep(0.2)
    assert "Traceback" not in server.log()[logged:]


def test_heartbeat_pings_and_an_idle_socket_is_closed(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.auto_pong = False
    socket.expect("ping", timeout=3)
    started = time.time()
    assert socket.close_code(timeout=10) == 1001  # it never answered
    assert time.time() - started < 8


def test_answering_pings_keeps_the_socket_open(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    end = time.time() + 6
    while time.time() < end:
        socket.expect("ping", timeout=3)
        socket.send({"type": "pong"})
    socket.send({"type": "ping"})
    socket.expect("pong")


# -- TURN ------------------------------------------------------------------------------


def test_turn_credentials_follow_coturns_use_auth_secret_scheme():
    username, credential = turn_credential("s3cret", "peer1", 600, now=1_000_000)
    assert username == "1000600:peer1"
    expected = hmac.new(b"s3cret", b"1000600:peer1", hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


def _admitted(server, org, doctor):
    """The client's "admitted" message once the doctor calls them in, and the client."""
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, staff = staff_socket(server, org, doctor)
    visit = staff.expect("waiting_list")["entries"][0]["id"]
    staff.send({"type": "call_in", "visit": visit})
    staff.expect("claimed")
    return client.expect("admitted"), client


def _signed_with(secret, turn):
    digest = hmac.new(secret.encode(), turn["username"].encode(), hashlib.sha1).digest()
    return turn["credential"] == base64.b64encode(digest).decode()


def test_admitted_client_gets_short_lived_turn_credentials(server, clinic):
    admitted, client = _admitted(server, *clinic)
    turn = [s for s in admitted["ice_servers"] if "username" in s][0]
    expiry, peer = turn["username"].split(":")
    assert peer == client.peer and 590 <= int(expiry) - time.time() <= 601
    assert _signed_with(server.turn_secret, turn)
    # Relayed-only media is the installation's choice (turn.relay_only), off by default.
    assert admitted["ice_transport_policy"] == "all"


def test_an_organisations_own_turn_servers_sign_with_its_stored_encrypted_secret(server):
    # The server's secret box: derived from its session secret, as it has no key of its own.
    box = box_from_settings({"session.secret": server.secret})
    org = server.organisation(
        force_start=True,
        turn_urls="turns:turn.clinic.example:5349",
        turn_secret=seal("the-clinics-own-s3cret", box),
    )
    admitted, _client = _admitted(server, org, server.user(org, name="Dr Who"))
    [turn] = [s for s in admitted["ice_servers"] if "username" in s]
    assert turn["urls"] == ["turns:turn.clinic.example:5349"]
    assert _signed_with("the-clinics-own-s3cret", turn)


# -- nothing WebRTC before admission ------------------------------------------------------


def test_an_unadmitted_client_receives_no_sdp_candidate_or_credentials(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    other = server.appointment(org, doctor, name="Other")
    waiting = client_socket(server, org, other)
    waiting.expect("waiting")
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, staff = staff_socket(server, org, doctor)
    entries = staff.expect("waiting_list")["entries"]
    visit = [e["id"] for e in entries if e["appointment_id"] == appointment.id][0]
    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    # Signals between the two admitted peers, and attempts aimed at the waiting one.
    for _ in range(5):
        staff.send(
            {
                "type": "signal",
                "to": client.peer,
                "data": {"sdp": {"type": "offer", "sdp": "v=0 secret-sdp"}},
            }
        )
        staff.send(
            {
                "type": "signal",
                "to": waiting.peer,
                "data": {"candidate": {"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host"}},
            }
        )
        client.send(
            {
                "type": "signal",
                "to": staff.peer,
                "data": {"candidate": {"candidate": "candidate:2 1 udp 1 10.0.0.2 9 typ host"}},
            }
        )
    assert client.expect("signal")["data"]["sdp"]["sdp"] == "v=0 secret-sdp"
    staff.expect("signal")
    # The waiting client tries to signal too: refused.
    waiting.send({"type": "signal", "to": staff.peer, "data": {"sdp": {"sdp": "x"}}})
    assert waiting.expect("error")["code"] == "forbidden"
    waiting.drain(1.0)
    for message in waiting.received:
        text = json.dumps(message)
        assert message["type"] not in ("signal", "admitted", "room"), message
        for word in WEBRTC_WORDS:
            assert word not in text, message


def test_signals_are_refused_to_a_socket_not_in_a_room(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    staff.send({"type": "signal", "to": "abc", "data": {"sdp": {}}})
    assert staff.expect("error")["code"] == "forbidden"


def test_a_signal_may_carry_only_sdp_or_a_candidate(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, staff = staff_socket(server, org, doctor)
    staff.send({"type": "force_start", "appointment": appointment.id})
    room = staff.expect("started")["room"]
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    staff.send({"type": "signal", "to": client.peer, "data": {"script": "x"}})
    assert staff.expect("error")["code"] == "malformed"


# -- kick_user through the features that call it -----------------------------------------


def test_logging_out_everywhere_closes_the_users_sockets(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    other_device = Browser(server.port, org).log_in(doctor)
    status, _headers, _page = other_device.request(
        "/session/end-all", {"csrf_token": other_device.csrf_token()}
    )
    assert status == 303
    assert socket.close_code() == 4403


def test_a_deactivated_users_socket_is_closed(server, clinic):
    org, doctor = clinic
    _browser, socket = staff_socket(server, org, doctor)
    socket.expect("waiting_list")
    admin = Browser(server.port, org).log_in(server.user(org, role=Role.org_admin))
    status, _headers, page = admin.request(f"/staff/{doctor.id}")
    assert status == 200
    form = form_values(page.decode())
    form.pop("active", None)  # unticked
    status, _headers, page = admin.request(f"/staff/{doctor.id}", form)
    assert status == 303, page
    assert socket.close_code() == 4403


def form_values(page):
    """The values the staff form would post (text inputs, checked boxes, selects)."""
    start = page.rindex("<form", 0, page.index('name="email"'))
    form = page[start : page.index("</form>", start)]
    values = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="file"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = html.unescape(value.group(1)) if value else "y"
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', body) or re.search(
            r'<option[^>]*value="([^"]*)"', body
        )
        values[name] = html.unescape(chosen.group(1)) if chosen else ""
    return values


def test_a_plugins_message_type_is_answered_only_where_the_plugin_is_enabled(server):
    """The realtime door: the hello test plugin's "hello.wave" reaches its
    handler from a staff socket of an organisation that enabled it; anywhere
    else, and from a client socket, it is an unknown type."""
    on, off = server.organisation(), server.organisation()
    server.add(PluginEnablement(organisation_id=on.id, plugin="hello", enabled=True))
    _browser, staff = staff_socket(server, on, server.user(on))
    staff.send({"type": "hello.wave"})
    assert staff.expect("hello.waved") == {"type": "hello.waved", "role": "staff"}
    _browser, stranger = staff_socket(server, off, server.user(off))
    stranger.send({"type": "hello.wave"})
    error = stranger.expect("error")
    assert error["code"] == "unknown_type" and "hello.wave" in error["message"]
    client = client_socket(server, on, server.appointment(on, server.user(on)))
    client.send({"type": "hello.wave"})
    assert client.expect("error")["code"] == "unknown_type"
