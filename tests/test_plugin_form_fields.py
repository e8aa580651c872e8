"""Plugin fields on the staff's appointment form (the hello plugin's "Hello
code"): shown on the new and edit forms of an organisation that enabled
the plugin, validated on the server with the plugin's message and nothing
written when refused, saved in the appointment's transaction before the
invitation is written; absent, and its posted value ignored, where the
plugin is not enabled."""

from datetime import datetime

import pytest
import time_machine
from consultroom_hello import Code
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment

from clients_support import make_client, post

NOW = datetime(2026, 6, 1, 8, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(make_organisation, make_user, enable_plugin, dbsession):
    made = {}
    for subdomain in ("on", "off"):
        org = make_organisation(subdomain, timezone="Europe/Amsterdam")
        doctor = make_user(org, role=Role.practitioner, name=f"Dr {subdomain}")
        client = make_client(dbsession, org, "Bakker", initials="A.", practitioners=[doctor])
        made[subdomain] = (org, doctor, client)
    enable_plugin(made["on"][0], "hello")
    return made


@pytest.fixture
def staff_app(webtest, login, world):
    def app_of(subdomain):
        app = webtest(subdomain)
        login(app, world[subdomain][1])
        return app

    return app_of


def form_data(world, subdomain, **changes):
    _org, doctor, client = world[subdomain]
    return {
        "client_id": client.id,
        "practitioner_id": doctor.id,
        "date": "2026-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        **changes,
    }


def appointments(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalars(select(Appointment).where(Appointment.organisation_id == org.id)).all()


def codes(dbsession):
    dbsession.expire_all()
    return {c.appointment_id: c.code for c in dbsession.scalars(select(Code))}


def test_the_field_is_on_the_form_only_where_enabled(staff_app):
    page = staff_app("on").get("/appointments/new")
    field = page.html.select_one("form .plugin-field #hello_code")
    assert field is not None and field["name"] == "hello_code"
    # After the core's fields, before the button.
    assert page.html.select_one("form .plugin-field").find_next("button")["type"] == "submit"
    assert not staff_app("off").get("/appointments/new").html.select("#hello_code")


def test_a_valid_value_is_saved_with_the_new_appointment(staff_app, world, dbsession, smtp):
    post(staff_app("on"), "/appointments/new", form_data(world, "on", hello_code="ABC"), status=303)
    [appointment] = appointments(dbsession, world["on"][0])
    assert codes(dbsession) == {appointment.id: "ABC"}


def test_a_refused_value_reshows_the_form_and_writes_nothing(staff_app, world, dbsession, smtp):
    page = post(
        staff_app("on"), "/appointments/new", form_data(world, "on", hello_code="abc"), status=200
    )
    error = page.html.select_one(".plugin-field.has-error p.error#hello_code-error")
    assert error.get_text() == "A hello code is three capital letters."
    assert page.html.select_one("#hello_code")["value"] == "abc"  # what was posted
    assert page.html.select_one("#hello_code")["aria-describedby"] == "hello_code-error"
    assert appointments(dbsession, world["on"][0]) == [] and codes(dbsession) == {}
    assert smtp.messages == []  # no invitation either


def test_core_and_plugin_errors_show_together(staff_app, world, dbsession):
    data = form_data(world, "on", hello_code="x", duration_minutes="1")
    page = post(staff_app("on"), "/appointments/new", data, status=200)
    assert page.html.select_one("#hello_code-error") is not None
    assert page.html.select_one("#duration_minutes-help p.error") is not None
    assert appointments(dbsession, world["on"][0]) == []


def test_a_core_error_keeps_a_valid_plugin_value_unsaved(staff_app, world, dbsession):
    data = form_data(world, "on", hello_code="ABC", start_time="")
    page = post(staff_app("on"), "/appointments/new", data, status=200)
    assert page.html.select_one("#hello_code")["value"] == "ABC"
    assert appointments(dbsession, world["on"][0]) == [] and codes(dbsession) == {}


def test_edit_shows_changes_and_clears_the_saved_value(staff_app, world, dbsession, smtp):
    app = staff_app("on")
    post(app, "/appointments/new", form_data(world, "on", hello_code="ABC"), status=303)
    [appointment] = appointments(dbsession, world["on"][0])
    edit = f"/appointments/{appointment.id}/edit"
    assert app.get(edit).html.select_one("#hello_code")["value"] == "ABC"
    # Only the plugin's field changes: saved all the same.
    post(app, edit, form_data(world, "on", hello_code="XYZ"), status=303)
    assert codes(dbsession) == {appointment.id: "XYZ"}
    page = post(app, edit, form_data(world, "on", hello_code="no"), status=200)
    assert page.html.select_one("#hello_code-error") is not None
    assert codes(dbsession) == {appointment.id: "XYZ"}
    # A refused plugin value also keeps the core's change from being written.
    post(app, edit, form_data(world, "on", hello_code="no", duration_minutes="30"), status=200)
    dbsession.expire_all()
    assert dbsession.get(Appointment, appointment.id).duration_minutes == 20
    post(app, edit, form_data(world, "on", hello_code=""), status=303)
    assert codes(dbsession) == {}


def test_without_the_plugin_a_posted_value_is_ignored(staff_app, world, dbsession):
    post(
        staff_app("off"), "/appointments/new", form_data(world, "off", hello_code="bad"), status=303
    )
    assert len(appointments(dbsession, world["off"][0])) == 1
    assert codes(dbsession) == {}


def test_another_organisations_appointment_has_no_form(staff_app, world, dbsession):
    post(staff_app("off"), "/appointments/new", form_data(world, "off"), status=303)
    [theirs] = appointments(dbsession, world["off"][0])
    app = staff_app("on")
    app.get(f"/appointments/{theirs.id}/edit", status=404)
    post(
        app, f"/appointments/{theirs.id}/edit", form_data(world, "on", hello_code="ABC"), status=404
    )
    assert codes(dbsession) == {}


def test_quick_consultations_have_no_plugin_fields(staff_app):
    assert not staff_app("on").get("/appointments/quick").html.select("#hello_code")
