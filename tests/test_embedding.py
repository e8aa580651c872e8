"""Embedding the waiting room and the room (issue 19): the client's page
(/c/<token>, where the waiting room turns into the room) and a guest's room
(/join/<token>) may be framed by the organisation's embed origins, and by
no one else; every other page still may not be framed at all. The embed
script is a static file of the theme, and the widgets page shows its code."""

from datetime import timedelta

import pytest

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import utcnow
from consultroom.room.models import Room, RoomInvite

SITE = "https://www.acme.example"


@pytest.fixture
def orgs(make_organisation):
    return (
        make_organisation("acme", embed_origins=[SITE, "http://localhost:8080"]),
        make_organisation("other", embed_origins=["https://www.other.example"]),
    )


def appointment_of(org, make_user, dbsession):
    appointment = Appointment(
        organisation_id=org.id,
        client=Client(organisation_id=org.id, initials="A.", last_name="Bakker"),
        practitioner=make_user(org, role=Role.practitioner),
        starts_at=utcnow() + timedelta(minutes=5),
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return appointment


def frame_ancestors(response):
    policy = response.headers["Content-Security-Policy"]
    (directive,) = [d.strip() for d in policy.split(";") if "frame-ancestors" in d]
    return directive


def test_the_waiting_room_may_be_framed_by_the_organisations_sites_only(
    webtest, orgs, make_user, dbsession
):
    acme, other = orgs
    page = webtest("acme").get(f"/c/{appointment_of(acme, make_user, dbsession).token}")
    assert "data-waiting-page" in page.text
    assert frame_ancestors(page) == f"frame-ancestors 'self' {SITE} http://localhost:8080"
    assert "X-Frame-Options" not in page.headers
    # The other organisation's page names its own site, not acme's.
    theirs = webtest("other").get(f"/c/{appointment_of(other, make_user, dbsession).token}")
    assert frame_ancestors(theirs) == "frame-ancestors 'self' https://www.other.example"
    # Acme's token on the other organisation's site: nothing, and no acme origin.
    token = appointment_of(acme, make_user, dbsession).token
    miss = webtest("other").get(f"/c/{token}", status=404)
    assert SITE not in miss.headers["Content-Security-Policy"]


def test_a_guests_room_may_be_framed_too(webtest, orgs, make_user, dbsession):
    acme, _other = orgs
    appointment = appointment_of(acme, make_user, dbsession)
    room = Room(
        organisation_id=acme.id,
        appointment_id=appointment.id,
        created_by_id=appointment.practitioner.id,
    )
    dbsession.add(room)
    dbsession.flush()
    invite = RoomInvite(room_id=room.id, name="Guest", email="guest@example.org")
    dbsession.add(invite)
    dbsession.flush()
    page = webtest("acme").get(f"/join/{invite.token}")
    assert "data-room" in page.text
    assert SITE in frame_ancestors(page)


@pytest.mark.parametrize("path", ["/login", "/organisation", "/static/css/main.css"])
def test_other_pages_may_not_be_framed(webtest, orgs, path):
    response = webtest("acme").get(path, status="*")
    assert frame_ancestors(response) == "frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_embed_script_and_its_code(webtest, login, make_user, orgs):
    script = webtest("acme").get("/static/js/embed.js")
    assert script.content_type == "text/javascript"
    assert "frame.allow = ALLOW" in script.text and "camera; microphone" in script.text
    app = webtest("acme")
    login(app, make_user(orgs[0], role=Role.org_admin))
    code = app.get("/widgets").html.select_one("[data-embed-script] code").text
    assert 'data-consultroom-embed="http://acme.' in code
    assert "/static/js/embed.js" in code
