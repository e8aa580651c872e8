"""The walk-in widget page, live over its socket (role walk_in) on a real
server: a practitioner who switches walk-ins off, or enters a consultation,
leaves the offered list within a second, and comes back when they switch on
or the consultation ends (shown as busy meanwhile). A widget hears only its
own organisation."""

import time
from datetime import time as clock_time

from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.timezones import local_now
from consultroom.widgets.models import WalkInWidget

from realtime_support import Browser, client_socket, refused, staff_socket

WITHIN = 1.0  # seconds: what "live" means for the widget


def walk_in_block(org, user):
    """A walk-in block covering the rest of today (local) for ``user``."""
    return AvailabilityBlock(
        organisation_id=org.id,
        practitioner_id=user.id,
        on_date=local_now(org).date(),
        start_time=clock_time(0),
        end_time=clock_time(23, 59, 59),
        purpose="walk_in",
    )


def walk_in_time(server, org, user):
    server.add(walk_in_block(org, user))


def widget_of(server, org):
    return server.add(WalkInWidget(organisation_id=org.id, name="Walk in"))


def widget_socket(server, org, widget):
    socket = Browser(server.port, org).socket()
    socket.send({"type": "hello", "role": "walk_in", "widget": widget.public_id})
    assert socket.expect("welcome")["role"] == "walk_in"
    return socket


def names(message, key="available"):
    return [person["name"] for person in message[key]]


def next_list(socket, started):
    """The next walk_in_list, which must come within WITHIN of ``started``."""
    message = socket.expect("walk_in_list", timeout=WITHIN + 1)
    assert time.monotonic() - started < WITHIN
    return message


def switched_on_doctor(server, org):
    doctor = server.user(org, name="Dr Who")
    walk_in_time(server, org, doctor)
    browser, staff = staff_socket(server, org, doctor)
    staff.expect("waiting_list")
    staff.send({"type": "walk_in_available", "on": True})
    staff.expect("walk_in")
    return doctor, browser, staff


def test_switching_off_takes_the_practitioner_off_the_widget_at_once(server):
    org = server.organisation()
    doctor, _browser, staff = switched_on_doctor(server, org)
    widget = widget_of(server, org)
    visitor = widget_socket(server, org, widget)
    first = visitor.expect("walk_in_list")
    assert names(first) == ["Dr Who"]
    assert first["available"][0]["url"] == f"/walk-in/{widget.public_id}/{doctor.id}"
    started = time.monotonic()
    staff.send({"type": "walk_in_available", "on": False})
    assert names(next_list(visitor, started)) == []
    started = time.monotonic()
    staff.send({"type": "walk_in_available", "on": True})
    assert names(next_list(visitor, started)) == ["Dr Who"]


def test_a_consultation_shows_the_practitioner_as_busy_until_it_ends(server):
    org = server.organisation()
    doctor, _browser, staff = switched_on_doctor(server, org)
    visitor = widget_socket(server, org, widget_of(server, org))
    assert names(visitor.expect("walk_in_list")) == ["Dr Who"]
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    visit = staff.expect("waiting_delta")["entry"]["id"]
    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    started = time.monotonic()
    staff.send({"type": "join", "room": room})
    busy = next_list(visitor, started)
    assert (names(busy), names(busy, "busy")) == ([], ["Dr Who"])
    started = time.monotonic()
    staff.send({"type": "end", "room": room})
    free = next_list(visitor, started)
    assert (names(free), names(free, "busy")) == (["Dr Who"], [])


def test_a_widget_hears_only_its_own_organisation(server):
    org, other = server.organisation(), server.organisation()
    _doctor, _browser, staff = switched_on_doctor(server, other)
    theirs = widget_of(server, other)
    # Another organisation's widget, or none, on this organisation's site.
    for public_id in (theirs.public_id, "nope", 7, "x" * 30):
        socket = Browser(server.port, org).socket()
        socket.send({"type": "hello", "role": "walk_in", "widget": public_id})
        refused(socket)
    mine = widget_socket(server, org, widget_of(server, org))
    assert names(mine.expect("walk_in_list")) == []
    staff.send({"type": "walk_in_available", "on": False})
    staff.expect("walk_in")
    mine.drain(0.5)
    assert [m["type"] for m in mine.received if m["type"] == "walk_in_list"] == ["walk_in_list"]
    # The widget's socket sends nothing of its own: a staff message is unknown.
    mine.send({"type": "walk_in_available", "on": True})
    assert mine.expect("error")["code"] == "unknown_type"


def test_the_page_says_who_to_hear_from(server):
    org = server.organisation()
    widget = widget_of(server, org)
    status, _headers, page = Browser(server.port, org).request(f"/walk-in/{widget.public_id}")
    assert status == 200
    assert b'"role": "walk_in"' in page and widget.public_id.encode() in page
    assert b"/static/js/walkin.js" in page
