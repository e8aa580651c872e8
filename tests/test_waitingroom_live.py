"""The live waiting room over real websockets: arrival in the right list,
the call-in race, send back, notes, force start, the grace period, the
walk-in switch, and organisations kept apart."""

import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from test_walk_in_live import walk_in_time, widget_of

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind
from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.room.models import ConnectionProblem
from consultroom.waitingroom.models import Visit, WalkInSwitch

from realtime_support import Browser, client_socket, consultation, staff_socket


def entry_of(listing, appointment):
    return next(e for e in listing["entries"] if e["appointment_id"] == appointment.id)


def wait_for_list(socket, predicate, timeout=5):
    deadline = time.time() + timeout
    while True:
        listing = socket.expect("waiting_list", timeout=max(0.1, deadline - time.time()))
        if predicate(listing):
            return listing


def test_a_client_appears_in_the_practitioners_list_live(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    assert staff.expect("waiting_list")["count"] == 0
    appointment = server.appointment(org, doctor, minutes=-10)
    client = client_socket(server, org, appointment)
    waiting = client.expect("waiting")
    assert waiting["arrival"] == "late" and waiting["note"] is None
    listing = wait_for_list(staff, lambda m: m["count"] == 1)
    entry = entry_of(listing, appointment)
    assert entry["name"] == "J. Jansen" and entry["arrival"] == "late" and entry["connected"]


def test_department_appointments_reach_every_member_and_walk_ins_are_marked(server, clinic):
    org, _doctor = clinic
    physio = server.department(org, "Physio")
    members = [server.user(org, department=physio) for _ in range(2)]
    outsider = server.user(org)
    sockets = [staff_socket(server, org, u)[1] for u in (*members, outsider)]
    for socket in sockets:
        socket.expect("waiting_list")
    appointment = server.appointment(org, department=physio)
    walk_in = server.appointment(org, members[0], kind=Kind.walk_in, name="Visitor")
    client_socket(server, org, appointment).expect("waiting")
    client_socket(server, org, walk_in).expect("waiting")
    first = wait_for_list(sockets[0], lambda m: m["count"] == 2)
    assert entry_of(first, walk_in)["arrival"] == "walk_in"
    assert entry_of(first, appointment)["department"] == "Physio"
    second = wait_for_list(sockets[1], lambda m: m["count"] == 1)
    assert entry_of(second, appointment)
    sockets[2].drain(0.5)
    assert all(m["count"] == 0 for m in sockets[2].received if m["type"] == "waiting_list")


def test_two_simultaneous_call_ins_have_exactly_one_winner(server, clinic):
    org, _doctor = clinic
    team = server.department(org, "Team")
    users = [server.user(org, department=team, name=f"Doc {n}") for n in range(2)]
    sockets = [staff_socket(server, org, u)[1] for u in users]
    appointment = server.appointment(org, department=team)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    visit = entry_of(wait_for_list(sockets[0], lambda m: m["count"] == 1), appointment)["id"]
    wait_for_list(sockets[1], lambda m: m["count"] == 1)
    barrier = threading.Barrier(2)

    def click(socket):
        barrier.wait()
        socket.send({"type": "call_in", "visit": visit})

    threads = [threading.Thread(target=click, args=(s,)) for s in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = []
    for socket in sockets:
        deadline = time.time() + 5
        while True:
            message = socket.recv(deadline - time.time())
            if message["type"] in ("claimed", "claim_lost"):
                answers.append(message)
                break
    assert sorted(a["type"] for a in answers) == ["claim_lost", "claimed"]
    winner = next(a for a in answers if a["type"] == "claimed")
    loser = next(a for a in answers if a["type"] == "claim_lost")
    assert loser["by"] in ("Doc 0", "Doc 1") and winner["url"] == f"/room/{winner['room']}"
    assert client.expect("admitted")["room"] == winner["room"]
    [(state, claimed_by)] = server.query(
        select(Visit.state, Visit.claimed_by_id).where(Visit.id == visit)
    )
    assert state == "in_room" and claimed_by in {u.id for u in users}


def test_call_in_send_back_note_and_end(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    visit = entry_of(wait_for_list(staff, lambda m: m["count"] == 1), appointment)["id"]
    staff.send({"type": "note", "visit": visit, "text": "Running 10 minutes late"})
    assert client.expect("note")["text"] == "Running 10 minutes late"
    staff.send({"type": "note", "visit": visit, "text": "two\nlines"})
    assert staff.expect("error")["code"] == "malformed"
    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    assert [p["role"] for p in staff.expect("room")["peers"]] == ["client"]
    staff.send({"type": "send_back", "room": room})
    client.expect("sent_back")
    assert client.expect("waiting")["visit"] == visit
    wait_for_list(staff, lambda m: m["count"] == 1)
    staff.drain(0.3)
    assert {"type": "peer_left", "peer": client.peer} in staff.received
    staff.send({"type": "call_in", "visit": visit})
    assert staff.expect("claimed")["room"] == room  # the same open room
    client.expect("admitted")
    staff.expect("peer_joined")
    staff.send({"type": "end", "room": room})
    assert client.expect("ended")["follow_up"] == "Thank you, see you next week."
    assert staff.expect("ended")["url"] == "/waiting-room"
    [(state,)] = server.query(select(Visit.state).where(Visit.id == visit))
    assert state == "ended"
    # Coming back after the end shows the end again, not the waiting room.
    again = client_socket(server, org, appointment)
    assert again.expect("ended")["follow_up"] == "Thank you, see you next week."


def minutes_ahead_today(org, wanted):
    """``wanted`` minutes from now, or fewer so that the start stays on
    today's date in the organisation's time zone (the list of today's
    upcoming appointments)."""
    now = datetime.now(ZoneInfo(org.timezone or "Europe/Amsterdam"))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return max(0, min(wanted, int((midnight - now).total_seconds() // 60) - 1))


def test_force_start_then_the_client_goes_straight_in(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor, minutes=minutes_ahead_today(org, 30))
    _browser, staff = staff_socket(server, org, doctor)
    listing = staff.expect("waiting_list")
    assert appointment.id in [u["appointment_id"] for u in listing["upcoming"]]
    staff.send({"type": "force_start", "appointment": appointment.id})
    room = staff.expect("started")["room"]
    staff.send({"type": "join", "room": room})
    assert staff.expect("room")["peers"] == []
    client = Browser(server.port, org).socket()
    client.hello("client", appointment.token)
    first = client.recv()
    assert first["type"] == "admitted" and first["room"] == room
    joined = staff.expect("peer_joined")
    assert joined["role"] == "client" and joined["name"] == "J. Jansen"


def test_force_start_needs_the_organisation_setting(server):
    org = server.organisation()
    doctor = server.user(org)
    appointment = server.appointment(org, doctor)
    _browser, staff = staff_socket(server, org, doctor)
    staff.send({"type": "force_start", "appointment": appointment.id})
    assert staff.expect("error")["code"] == "forbidden"


def test_a_closed_tab_leaves_the_list_after_the_grace_period_and_returns(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    first = server.appointment(org, doctor, name="First")
    second = server.appointment(org, doctor, minutes=1, name="Second")
    one = client_socket(server, org, first)
    one.expect("waiting")
    wait_for_list(staff, lambda m: m["count"] == 1)
    client_socket(server, org, second).expect("waiting")
    wait_for_list(staff, lambda m: m["count"] == 2)
    one.close()
    listing = wait_for_list(staff, lambda m: not entry_of(m, first)["connected"])
    assert listing["count"] == 2  # still there during the grace period (2 s here)
    listing = wait_for_list(staff, lambda m: m["count"] == 1, timeout=6)
    assert [e["appointment_id"] for e in listing["entries"]] == [second.id]
    back = client_socket(server, org, first)
    back.expect("waiting")
    listing = wait_for_list(staff, lambda m: m["count"] == 2)
    assert [e["appointment_id"] for e in listing["entries"]] == [first.id, second.id]


def test_a_second_tab_replaces_the_first(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    old = client_socket(server, org, appointment)
    old.expect("waiting")
    new = client_socket(server, org, appointment)
    new.expect("waiting")
    assert old.close_code() == 4409


def test_the_walk_in_switch_feeds_the_widget(server, clinic):
    org, doctor = clinic
    browser, staff = staff_socket(server, org, doctor)
    assert staff.expect("waiting_list")["walk_in_available"] is False
    widget = widget_of(server, org)
    walk_in_time(server, org, doctor)  # walk-in time all day: the switch decides
    visitor = Browser(server.port, org)
    _status, _headers, page = visitor.request(f"/walk-in/{widget.public_id}")
    assert b"Dr Who" not in page
    staff.send({"type": "walk_in_available", "on": True})
    assert staff.expect("walk_in")["on"] is True
    _status, _headers, page = visitor.request(f"/walk-in/{widget.public_id}")
    assert b"Dr Who" in page
    _status, _headers, data = visitor.request(f"/walk-in/{widget.public_id}/available.json")
    assert [a["name"] for a in json.loads(data)["available"]] == ["Dr Who"]
    staff.send({"type": "walk_in_available", "on": False})
    staff.expect("walk_in")
    [(available,)] = server.query(
        select(WalkInSwitch.available).where(WalkInSwitch.user_id == doctor.id)
    )
    assert available is False


def test_staff_of_another_organisation_cannot_touch_its_visits_or_rooms(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    _browser, owner = staff_socket(server, org, doctor)
    visit = entry_of(wait_for_list(owner, lambda m: m["count"] == 1), appointment)["id"]
    other = server.organisation(force_start=True)
    stranger = server.user(other, role=Role.org_admin)
    browser, intruder = staff_socket(server, other, stranger)
    intruder.expect("waiting_list")
    intruder.send({"type": "call_in", "visit": visit})
    assert intruder.expect("error")["code"] == "not_found"
    intruder.send({"type": "force_start", "appointment": appointment.id})
    assert intruder.expect("error")["code"] == "not_found"
    intruder.send({"type": "note", "visit": visit, "text": "hello"})
    assert intruder.expect("error")["code"] == "not_found"
    owner.send({"type": "call_in", "visit": visit})
    room = owner.expect("claimed")["room"]
    intruder.send({"type": "join", "room": room})
    assert intruder.expect("error")["code"] == "not_found"
    assert browser.request(f"/room/{room}")[0] == 404
    [(state,)] = server.query(select(Visit.state).where(Visit.id == visit))
    assert state == "in_room"


def test_the_menu_shows_the_waiting_count(server, clinic):
    org, doctor = clinic
    appointment = server.appointment(org, doctor)
    client_socket(server, org, appointment).expect("waiting")
    browser = Browser(server.port, org).log_in(doctor)
    _status, _headers, page = browser.request("/waiting-room")
    assert b"Waiting room (1)" in page


def test_a_new_service_message_reaches_waiting_clients_live(server, clinic):
    org, doctor = clinic
    admin = server.user(org, role=Role.org_admin)
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    assert client.expect("waiting")["service_messages"] == []
    browser = Browser(server.port, org).log_in(admin)
    status, _headers, _page = browser.request(
        "/service-messages",
        {
            "csrf_token": browser.csrf_token(),
            "text": "Phones are down until 11:00",
            "department_id": "0",
        },
    )
    assert status == 303
    assert client.expect("waiting")["service_messages"] == ["Phones are down until 11:00"]


def test_the_link_window_governs_entering_not_being_called_in(server, clinic):
    """A client who entered the waiting room in time may still be called in
    after the link window closed (the practitioner runs late); once gone,
    the link no longer lets them back in."""
    org, doctor = clinic
    server.set_options(org, link_open_after_minutes=0)
    client = Client(
        organisation_id=org.id, initials="K.", last_name="Late", email="late@example.org"
    )
    closes = utcnow() + timedelta(seconds=3)
    appointment = server.add(
        client,
        Appointment(
            organisation_id=org.id,
            client=client,
            practitioner_id=doctor.id,
            kind=Kind.appointment,
            starts_at=closes - timedelta(minutes=20),
            duration_minutes=20,
        ),
    )[1]
    _browser, staff = staff_socket(server, org, doctor)
    waiting = client_socket(server, org, appointment)
    waiting.expect("waiting")
    visit = entry_of(wait_for_list(staff, lambda m: m["count"] == 1), appointment)["id"]
    time.sleep(max(0.0, (closes - utcnow()).total_seconds()) + 0.5)
    staff.send({"type": "call_in", "visit": visit})
    staff.expect("claimed")
    waiting.expect("admitted")
    latecomer = Browser(server.port, org).socket()
    latecomer.send({"type": "hello", "role": "client", "token": appointment.token})
    assert latecomer.expect("error")["code"] == "unauthorized"


def test_the_waiting_list_page_names_the_walk_in_widgets_the_user_feeds(server, clinic):
    org, doctor = clinic
    from consultroom.widgets.models import WalkInWidget

    other = server.department(org, "Elsewhere")
    for name, departments in (("Front desk", []), ("Other desk", [other])):
        widget = WalkInWidget(
            organisation_id=org.id,
            name=name,
            opening_hours="",
            absence_text="Nobody",
            terms_text="",
            custom_css="",
            intake_fields=["last_name"],
            primary_colour="#1f6f8b",
            background_colour="#ffffff",
        )
        widget.departments = departments
        server.add(widget)
    browser = Browser(server.port, org).log_in(doctor)
    _status, _headers, page = browser.request("/waiting-room")
    assert b"Walk-in widgets: Front desk</p>" in page


def deltas(socket, count, timeout=5):
    """The next ``count`` waiting_delta messages (the others skipped)."""
    return [socket.expect("waiting_delta", timeout) for _ in range(count)]


def test_each_change_reaches_staff_as_one_numbered_delta_the_same_bytes_for_all(server, clinic):
    org, _doctor = clinic
    team = server.department(org, "Deltas")
    sockets = [staff_socket(server, org, server.user(org, department=team))[1] for _ in range(2)]
    first = [s.expect("waiting_list") for s in sockets]
    key = f"dept:{team.id}"
    assert first[0]["seq"][key] == first[1]["seq"][key]
    start = first[0]["seq"][key]
    appointment = server.appointment(org, department=team)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    (added,) = deltas(sockets[0], 1)
    assert added["op"] == "add" and added["section"] == key and added["seq"] == start + 1
    assert added["entry"]["appointment_id"] == appointment.id and added["entry"]["connected"]
    visit = added["entry"]["id"]
    sockets[0].send({"type": "note", "visit": visit, "text": "Five minutes"})
    (noted,) = deltas(sockets[0], 1)
    assert noted["op"] == "change" and noted["seq"] == start + 2
    assert noted["entry"]["note"] == "Five minutes"
    client.close()
    left, gone = deltas(sockets[0], 2, timeout=6)
    assert (left["op"], left["entry"]["connected"], left["seq"]) == ("change", False, start + 3)
    assert (gone["op"], gone["id"], gone["left"], gone["seq"]) == ("remove", visit, True, start + 4)
    sockets[1].drain(0.5)
    # One delta per change, encoded once: every socket got the same text.
    assert len(sockets[0].delta_texts) == 4
    assert sockets[0].delta_texts == sockets[1].delta_texts


def test_call_in_removes_the_entry_for_everyone_and_a_resync_sends_the_full_list(server, clinic):
    org, _doctor = clinic
    team = server.department(org, "Claims")
    users = [server.user(org, department=team, name=f"Claimer {n}") for n in range(2)]
    sockets = [staff_socket(server, org, u)[1] for u in users]
    for socket in sockets:
        socket.expect("waiting_list")
    waiting, called = (server.appointment(org, department=team, minutes=n) for n in (0, 1))
    for appointment in (waiting, called):
        client_socket(server, org, appointment).expect("waiting")
    listing = wait_for_list(sockets[1], lambda m: m["count"] == 2)
    sockets[0].send({"type": "call_in", "visit": entry_of(listing, called)["id"]})
    sockets[0].expect("claimed")
    removed = sockets[1].expect("waiting_delta")
    while removed["op"] != "remove":
        removed = sockets[1].expect("waiting_delta")
    assert removed["appointment_id"] == called.id and removed["left"] is False
    sockets[1].send({"type": "resync"})
    full = sockets[1].expect("waiting_list")
    while full.get("applied"):
        full = sockets[1].expect("waiting_list")
    assert [e["appointment_id"] for e in full["entries"]] == [waiting.id]
    assert full["seq"][f"dept:{team.id}"] == removed["seq"]


def test_a_client_that_misses_a_delta_asks_for_the_full_list(server, clinic):
    org, doctor = clinic
    _browser, staff = staff_socket(server, org, doctor)
    listing = staff.expect("waiting_list")
    key = f"user:{doctor.id}"
    # As if the socket had missed every delta so far: the next is a gap.
    staff.waiting.seq[key] = listing["seq"][key] - 1
    appointment = server.appointment(org, doctor)
    client_socket(server, org, appointment).expect("waiting")
    delta = staff.expect("waiting_delta")
    # The gap seen in this delta: the socket sent "resync" (``staff.waiting``
    # is None only until the answer comes, which may be before this line).
    assert staff.gaps == [delta]
    full = staff.expect("waiting_list")
    assert not full.get("applied")
    assert [e["appointment_id"] for e in full["entries"]] == [appointment.id]


# -- handing a waiting client over ------------------------------------------------------


def _removed(socket, appointment, timeout=5):
    delta = socket.expect("waiting_delta", timeout)
    while not (delta["op"] == "remove" and delta["appointment_id"] == appointment.id):
        delta = socket.expect("waiting_delta", timeout)
    return delta


def _added(socket, appointment, timeout=5):
    delta = socket.expect("waiting_delta", timeout)
    while not (delta["op"] == "add" and delta["entry"]["appointment_id"] == appointment.id):
        delta = socket.expect("waiting_delta", timeout)
    return delta["entry"]


def test_a_waiting_client_is_handed_to_a_colleague_and_keeps_their_place(server, clinic):
    org, doctor = clinic
    colleague = server.user(org, name="Dr. Colleague")
    _b, mine = staff_socket(server, org, doctor)
    _b, theirs = staff_socket(server, org, colleague)
    theirs.expect("waiting_list")
    appointment = server.appointment(org, doctor, minutes=-10)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    entry = entry_of(wait_for_list(mine, lambda m: m["count"] == 1), appointment)
    [(arrived_before,)] = server.query(select(Visit.arrived_at).where(Visit.id == entry["id"]))

    mine.send({"type": "transfer", "visit": entry["id"], "to": f"user:{colleague.id}"})
    assert _removed(mine, appointment)["left"] is False
    handed = _added(theirs, appointment)
    assert handed["id"] == entry["id"] and handed["arrival"] == "late"
    assert client.expect("transferred")["to"] == "Dr. Colleague"
    [(practitioner, arrived_at)] = server.query(
        select(Appointment.practitioner_id, Visit.arrived_at)
        .join(Visit, Visit.appointment_id == Appointment.id)
        .where(Appointment.id == appointment.id)
    )
    assert practitioner == colleague.id and arrived_at == arrived_before
    # In the trail once linked into it (soon after the commit).
    deadline = time.time() + 5
    while not (details := _transfers_audited(server, appointment)) and time.time() < deadline:
        time.sleep(0.05)
    assert details == [{"to": f"user:{colleague.id}"}]
    # Handed over once: the old list has it no more.
    mine.send({"type": "transfer", "visit": entry["id"], "to": f"user:{colleague.id}"})
    assert mine.expect("error")["code"] == "not_found"
    theirs.send({"type": "call_in", "visit": entry["id"]})
    assert theirs.expect("claimed")


def _transfers_audited(server, appointment):
    return [
        detail
        for (detail,) in server.query(
            select(AuditEntry.detail).where(
                AuditEntry.object_id == str(appointment.id),
                AuditEntry.action == "appointment.transferred",
            )
        )
    ]


def test_two_hand_overs_at_once_move_the_client_exactly_once(server, clinic):
    org, _doctor = clinic
    team = server.department(org, "Handover")
    senders = [server.user(org, department=team, name=f"Sender {n}") for n in range(2)]
    receivers = [server.user(org, name=f"Receiver {n}") for n in range(2)]
    sockets = [staff_socket(server, org, u)[1] for u in senders + receivers]
    for socket in sockets:
        socket.expect("waiting_list")
    appointment = server.appointment(org, department=team)
    client_socket(server, org, appointment).expect("waiting")
    visit = entry_of(wait_for_list(sockets[0], lambda m: m["count"] == 1), appointment)["id"]
    wait_for_list(sockets[1], lambda m: m["count"] == 1)
    barrier = threading.Barrier(2)

    def hand_over(socket, receiver):
        barrier.wait()
        socket.send({"type": "transfer", "visit": visit, "to": f"user:{receiver.id}"})

    threads = [
        threading.Thread(target=hand_over, args=(sockets[n], receivers[n])) for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [(practitioner,)] = _settled(server, appointment)
    winner = receivers.index(next(r for r in receivers if r.id == practitioner))
    assert _added(sockets[2 + winner], appointment)["id"] == visit
    loser_socket = sockets[1 - winner]  # sender n handed to receiver n
    assert loser_socket.expect("error")["code"] == "not_found"
    sockets[3 - winner].drain(0.5)
    assert not any(
        m.get("op") == "add" for m in sockets[3 - winner].received if m["type"] == "waiting_delta"
    )


def _settled(server, appointment, timeout=5):
    deadline = time.time() + timeout
    while True:
        rows = server.query(
            select(Appointment.practitioner_id).where(
                Appointment.id == appointment.id, Appointment.practitioner_id.is_not(None)
            )
        )
        if rows or time.time() > deadline:
            return rows
        time.sleep(0.05)


def test_a_client_is_handed_to_a_departments_waiting_room(server, clinic):
    org, doctor = clinic
    desk = server.department(org, "Front desk")
    member = server.user(org, department=desk)
    _b, mine = staff_socket(server, org, doctor)
    _b, desk_socket = staff_socket(server, org, member)
    desk_socket.expect("waiting_list")
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    visit = entry_of(wait_for_list(mine, lambda m: m["count"] == 1), appointment)["id"]
    mine.send({"type": "transfer", "visit": visit, "to": f"department:{desk.id}"})
    assert _added(desk_socket, appointment)["department"] == "Front desk"
    assert client.expect("transferred")["to"] == "Front desk"


def test_a_hand_over_names_someone_of_the_organisation(server, clinic):
    org, doctor = clinic
    other = server.organisation()
    stranger = server.user(other, name="Stranger")
    _b, mine = staff_socket(server, org, doctor)
    appointment = server.appointment(org, doctor)
    client_socket(server, org, appointment).expect("waiting")
    visit = entry_of(wait_for_list(mine, lambda m: m["count"] == 1), appointment)["id"]
    for to in ["", "user:", "user:abc", "user:²", "nobody:1", "user:1:2", "x" * 40, 5]:
        mine.send({"type": "transfer", "visit": visit, "to": to})
        assert mine.expect("error")["code"] == "malformed", to
    for to in [f"user:{stranger.id}", f"user:{doctor.id}", "department:999999"]:
        mine.send({"type": "transfer", "visit": visit, "to": to})
        assert mine.expect("error")["code"] == "not_found", to
    # The other organisation's staff cannot hand this client anywhere.
    _b, intruder = staff_socket(server, other, server.user(other, role=Role.org_admin))
    intruder.expect("waiting_list")
    intruder.send({"type": "transfer", "visit": visit, "to": f"user:{stranger.id}"})
    assert intruder.expect("error")["code"] == "not_found"
    [(practitioner,)] = server.query(
        select(Appointment.practitioner_id).where(Appointment.id == appointment.id)
    )
    assert practitioner == doctor.id


# -- connection problems the room's browsers report -------------------------------------


def test_a_failed_media_connection_is_counted_once_per_socket_and_room(server, clinic):
    org, doctor = clinic
    _browser, staff, client, appointment, room = consultation(server, org, doctor)
    for _ in range(3):  # a flapping connection is one problem
        client.send({"type": "problem", "kind": "ice_failed"})
    staff.send({"type": "problem", "kind": "ice_failed"})
    client.send({"type": "problem", "kind": "something else"})
    assert client.expect("error")["code"] == "malformed"

    def recorded():
        return server.query(
            select(ConnectionProblem.kind, ConnectionProblem.role, ConnectionProblem.user_id)
            .where(ConnectionProblem.appointment_id == appointment.id)
            .order_by(ConnectionProblem.role)
        )

    deadline = time.time() + 5
    while len(recorded()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert recorded() == [("room", "client", None), ("room", "staff", doctor.id)]
    # Outside a room there is nothing to report about.
    _b, idle = staff_socket(server, org, server.user(org))
    idle.expect("waiting_list")
    idle.send({"type": "problem", "kind": "ice_failed"})
    assert idle.expect("error")["code"] == "forbidden"
