"""Consultations that start in the room (consultroom.room.quick): the quick
consultation puts the practitioner in the open room with the client's link
to copy or e-mail, the clients list's camera button does the same for one
client, and an empty room is opened for inviting someone. Bad input is
refused with a message and nothing saved; other tenants' clients and rooms
stay out of reach."""

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind
from consultroom.room.models import Room
from consultroom.tenancy.models import Department
from consultroom.waitingroom.models import IN_ROOM, Visit

from clients_support import errors, make_client, post

NOW = datetime(2026, 6, 1, 8, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def dept(dbsession, org):
    made = Department(organisation_id=org.id, name="Dietetics")
    dbsession.add(made)
    dbsession.flush()
    return made


@pytest.fixture
def doctor(make_user, org, dept):
    return make_user(org, name="Dr. Jansen", department_id=dept.id)


@pytest.fixture
def client(dbsession, org, doctor, dept):
    return make_client(
        dbsession,
        org,
        "Bakker",
        initials="A.",
        email="a.bakker@example.org",
        departments=[dept],
        practitioners=[doctor],
    )


@pytest.fixture
def doctor_app(webtest, login, doctor):
    app = webtest("clinic")
    login(app, doctor)
    return app


def rows(dbsession, model, org):
    dbsession.expire_all()
    return dbsession.scalars(select(model).where(model.organisation_id == org.id)).all()


def room_of(response):
    assert response.status_int == 303
    path = response.headers["Location"].split("//", 1)[-1].split("/", 1)[1]
    assert path.startswith("room/"), path
    return path.removeprefix("room/")


def test_the_quick_consultation_starts_in_the_room(
    doctor_app, dbsession, org, doctor, client, smtp
):
    response = post(
        doctor_app, "/appointments/quick", {"client_id": client.id, "duration_minutes": "20"}
    )
    room_id = room_of(response)
    [quick] = rows(dbsession, Appointment, org)
    assert (quick.kind, quick.practitioner, quick.starts_at) == (Kind.quick, doctor, NOW)
    room = dbsession.get(Room, room_id)
    assert room.appointment_id == quick.id and room.created_by_id == doctor.id
    # Force-started: the client's visit is in the room before the client is.
    [visit] = rows(dbsession, Visit, org)
    assert (visit.state, visit.room_id, visit.arrived_at) == (IN_ROOM, room_id, None)
    page = response.follow()
    assert page.html.select_one("#client-link")["value"].endswith(f"/c/{quick.token}")
    assert "A. Bakker" in page.html.select_one("[data-client-link] h2").text
    assert smtp.messages == []


def test_the_link_is_mailed_when_ticked_or_from_the_room(doctor_app, dbsession, org, client, smtp):
    data = {"client_id": client.id, "duration_minutes": "20", "send_link": "y"}
    room_of(post(doctor_app, "/appointments/quick", data))
    assert [m["To"] for m in smtp.messages] == ["a.bakker@example.org"]
    room_id = room_of(post(doctor_app, "/appointments/quick", {**data, "send_link": ""}))
    assert len(smtp.messages) == 1
    page = doctor_app.get(f"/room/{room_id}")
    form = page.html.select_one("[data-client-link] form")
    assert form["action"] == f"/room/{room_id}/send-link"
    sent = post(doctor_app, f"/room/{room_id}/send-link", {}).follow()
    assert [m["To"] for m in smtp.messages] == ["a.bakker@example.org"] * 2
    assert "e-mailed to A. Bakker" in sent.text


def test_no_mail_button_for_a_client_without_address(doctor_app, dbsession, org, client, smtp):
    client.email = ""
    dbsession.flush()
    room_id = room_of(
        post(doctor_app, "/appointments/quick", {"client_id": client.id, "duration_minutes": "20"})
    )
    page = doctor_app.get(f"/room/{room_id}")
    assert page.html.select_one("#client-link") and not page.html.select("[data-client-link] form")
    refused = post(doctor_app, f"/room/{room_id}/send-link", {}).follow()
    assert "cannot be e-mailed" in refused.text and smtp.messages == []


def test_another_staff_members_room_sends_nothing(
    webtest, login, make_user, doctor_app, dbsession, org, client, smtp
):
    room_id = room_of(
        post(doctor_app, "/appointments/quick", {"client_id": client.id, "duration_minutes": "20"})
    )
    colleague = webtest("clinic")
    login(colleague, make_user(org, name="Dr. Peters"))
    post(colleague, f"/room/{room_id}/send-link", {}, status=404)
    colleague.get(f"/room/{room_id}", status=404)
    assert smtp.messages == []


@pytest.mark.parametrize(
    "data, field",
    [
        ({"client_id": "", "duration_minutes": "20"}, "client_id"),
        ({"client_id": "CLIENT", "duration_minutes": "2"}, "duration_minutes"),
        ({"client_id": "999999", "duration_minutes": "20"}, "client_id"),
    ],
)
def test_bad_input_opens_no_room(doctor_app, dbsession, org, client, data, field):
    data = {k: (client.id if v == "CLIENT" else v) for k, v in data.items()}
    page = post(doctor_app, "/appointments/quick", data)
    assert page.status_int == 200 and field in errors(page)
    assert rows(dbsession, Appointment, org) == [] and rows(dbsession, Room, org) == []


# ---- the camera button in the clients list


def test_the_clients_list_starts_a_consultation_with_one_client(
    doctor_app, dbsession, org, doctor, client, smtp
):
    page = doctor_app.get("/clients")
    button = page.html.find(
        "button", attrs={"aria-label": "Start a video consultation with A. Bakker"}
    )
    form = button.find_parent("form")
    assert form["method"] == "post" and form["action"] == f"/clients/{client.id}/consult"
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    room_id = room_of(post(doctor_app, form["action"], {}))
    [quick] = rows(dbsession, Appointment, org)
    assert (quick.client, quick.practitioner, quick.kind) == (client, doctor, Kind.quick)
    assert dbsession.get(Room, room_id).appointment_id == quick.id
    assert smtp.messages == []


def test_the_camera_button_needs_a_post_with_csrf(doctor_app, dbsession, org, client):
    doctor_app.get(f"/clients/{client.id}/consult", status=404)
    doctor_app.post(f"/clients/{client.id}/consult", {}, status=400)
    assert rows(dbsession, Appointment, org) == []


def test_the_camera_button_reaches_only_visible_clients(
    webtest, login, make_organisation, make_user, doctor_app, dbsession, org, dept
):
    other_org = make_organisation("other", name="Other")
    stranger = make_client(dbsession, other_org, "Stranger")
    post(doctor_app, f"/clients/{stranger.id}/consult", {}, status=404)
    org.settings = {**org.settings, "strict_departments": True}
    elsewhere = make_client(dbsession, org, "Elsewhere")
    post(doctor_app, f"/clients/{elsewhere.id}/consult", {}, status=404)
    assert rows(dbsession, Appointment, org) == [] and rows(dbsession, Room, other_org) == []


# ---- the empty room


def test_an_empty_room_is_opened_for_inviting(doctor_app, dbsession, org, doctor):
    page = doctor_app.get("/appointments/quick")
    form = page.html.find("form", attrs={"action": "/room/new"})
    assert form and form["method"] == "post"
    room_id = room_of(post(doctor_app, "/room/new", {}))
    room = dbsession.get(Room, room_id)
    assert (room.appointment_id, room.created_by_id, room.ended_at) == (None, doctor.id, None)
    room_page = doctor_app.get(f"/room/{room_id}")
    assert not room_page.html.select("[data-client-link]")
    assert room_page.html.select_one("[data-invite-dialog]")["data-url"] == (
        f"/room/{room_id}/participants"
    )
    doctor_app.get("/room/new", status=404)


def test_an_org_admin_opens_rooms_too(webtest, login, make_user, dbsession, org, client):
    app = webtest("clinic")
    admin = make_user(org, role=Role.org_admin, name="Ada Admin")
    login(app, admin)
    room_id = room_of(
        post(app, "/appointments/quick", {"client_id": client.id, "duration_minutes": "20"})
    )
    assert dbsession.get(Room, room_id).appointment.practitioner == admin
