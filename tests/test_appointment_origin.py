# ruff: noqa: F811 (the fixtures imported from test_booking are arguments here)
"""Who made a new appointment: each door that makes one (the booking
widget, the walk-in widget, the REST API, staff's quick consultation) tells
``consultroom_appointment_created`` its origin, as the hello test plugin
hears it, and the audit trail records it."""

import consultroom_hello
import pytest
from sqlalchemy import select
from test_booking import department, details_page, fill, frozen, org, practitioner  # noqa: F401
from walk_in_support import walk_in

from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditEntry

from clients_support import make_client, post


@pytest.fixture
def hello_on(org, enable_plugin):
    enable_plugin(org, "hello")
    consultroom_hello.APPOINTMENT_EVENTS.clear()


def heard(dbsession):
    """(origin told to the hook, origin in the audit trail) of the one new
    appointment."""
    made = dbsession.scalars(select(Appointment)).one()
    [(hook, _sub, seen_id, _notify, origin)] = consultroom_hello.APPOINTMENT_EVENTS
    assert (hook, seen_id) == ("created", made.id)
    entry = dbsession.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "appointment.create", AuditEntry.object_id == str(made.id)
        )
    )
    return origin, entry.detail["origin"]


def test_the_booking_widget_is_a_booking(hello_on, webtest, practitioner, dbsession):
    page = fill(details_page(webtest("acme"), practitioner).forms[0]).submit()
    assert "Your appointment is booked" in page.text
    assert heard(dbsession) == ("booking", "booking")


def test_the_walk_in_widget_is_a_walk_in(hello_on, webtest, make_user, dbsession, org):
    walk_in(dbsession, make_user, webtest("acme"), org)
    assert heard(dbsession) == ("walk_in", "walk_in")


def test_the_api_is_the_api(hello_on, webtest, practitioner, dbsession, org):
    key = org.rotate_api_key()
    client = make_client(dbsession, org, "Bakker")
    dbsession.flush()
    webtest("acme").post_json(
        "/api/v1/appointments",
        {
            "client_id": client.id,
            "practitioner_id": practitioner.id,
            "starts_at": "2030-06-05T10:00:00Z",
        },
        headers={"Authorization": f"Bearer {key}"},
        status=201,
    )
    assert heard(dbsession) == ("api", "api")


def test_a_quick_consultation_is_staffs(hello_on, webtest, login, practitioner, dbsession, org):
    client = make_client(dbsession, org, "Bakker")
    staff = webtest("acme")
    login(staff, practitioner)
    post(staff, "/appointments/quick", {"client_id": client.id, "duration_minutes": "20"})
    assert heard(dbsession) == ("staff", "staff")
