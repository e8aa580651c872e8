"""The dashboard as the practitioner's day: today's appointments they may
see (segregation applied) with what became of each (expected, waiting, in
consultation, done, no-show, cancelled), who is waiting now, the quick
consultation button, plugin cards in the slot, and the organisation admin's
set-up checklist whose steps go once done."""

from datetime import datetime, timedelta

import pytest
import time_machine

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Status
from consultroom.clientmail.models import TemplateSet
from consultroom.room.models import Room
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department
from consultroom.waitingroom.models import ENDED, IN_ROOM, WAITING, Visit

from clients_support import make_client

NOW = datetime(2026, 6, 1, 10, 0)  # UTC: 12:00 in Amsterdam


@pytest.fixture
def org(make_organisation):
    # Noon in Amsterdam for the whole test: today is 1 June.
    with time_machine.travel(NOW, tick=False):
        yield make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def dept(dbsession, org):
    dbsession.add(made := Department(organisation_id=org.id, name="Physio"))
    dbsession.flush()
    return made


@pytest.fixture
def doctor(make_user, org, dept):
    return make_user(org, name="Dr. Jansen", department_id=dept.id)


@pytest.fixture
def as_user(webtest, login):
    def log_in(user):
        app = webtest("clinic")
        login(app, user)
        return app

    return log_in


def book(dbsession, org, doctor, name, starts_at, **kw):
    appointment = Appointment(
        organisation_id=org.id,
        practitioner_id=doctor.id,
        client_id=make_client(dbsession, org, name).id,
        starts_at=starts_at,
        duration_minutes=20,
        **kw,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return appointment


def visit(dbsession, appointment, state, **kw):
    row = Visit(
        organisation_id=appointment.organisation_id,
        appointment_id=appointment.id,
        practitioner_id=appointment.practitioner_id,
        state=state,
        arrived_at=NOW - timedelta(minutes=5),
        **kw,
    )
    dbsession.add(row)
    dbsession.flush()
    return row


def states(page):
    return {
        row.select_one("td:nth-of-type(2)").get_text(strip=True): row.select_one("[data-state]")[
            "data-state"
        ]
        for row in page.html.select("[data-dashboard-day] tr.day-row")
    }


def test_the_day_shows_what_became_of_each_appointment(as_user, dbsession, org, doctor):
    hour = timedelta(hours=1)
    book(dbsession, org, doctor, "Expected", NOW + hour)
    waiting = book(dbsession, org, doctor, "Waiting", NOW)
    visit(dbsession, waiting, WAITING, connected=True)
    inside = book(dbsession, org, doctor, "Inside", NOW - timedelta(minutes=10))
    visit(dbsession, inside, IN_ROOM)
    done = book(dbsession, org, doctor, "Done", NOW - 2 * hour)
    visit(dbsession, done, ENDED)
    started = book(dbsession, org, doctor, "Started", NOW - 3 * hour)  # force start, no client
    dbsession.add(Room(organisation_id=org.id, appointment_id=started.id, ended_at=NOW - hour))
    book(dbsession, org, doctor, "Absent", NOW - 4 * hour)
    book(dbsession, org, doctor, "Gone", NOW + hour, status=Status.cancelled)
    book(dbsession, org, doctor, "Tomorrow", NOW + 24 * hour)
    gone = book(dbsession, org, doctor, "Left", NOW - timedelta(minutes=30))
    visit(dbsession, gone, WAITING, connected=False, left_at=NOW - hour)
    dbsession.flush()

    page = as_user(doctor).get("/")
    assert states(page) == {
        "Absent": "no_show",
        "Started": "done",
        "Done": "done",
        "Left": "no_show",
        "Inside": "in_consultation",
        "Waiting": "waiting",
        "Expected": "expected",
        "Gone": "cancelled",
    }
    # Who waits now, and the way to a quick consultation.
    assert [li.strong.get_text() for li in page.html.select("[data-dashboard-waiting] li")] == [
        "Waiting"
    ]
    assert page.html.select_one("a.button.primary[href='/appointments/quick']")
    # Not set up by a practitioner: no checklist.
    assert not page.html.select("[data-checklist]")


def test_the_day_keeps_to_what_the_user_may_see(as_user, dbsession, org, doctor, make_user, dept):
    org.settings = {**org.settings, "strict_clients": True}
    colleague = make_user(org, name="Dr. Peters", department_id=dept.id)
    book(dbsession, org, doctor, "Mine", NOW + timedelta(hours=1))
    book(dbsession, org, colleague, "Theirs", NOW + timedelta(hours=1))
    dbsession.flush()
    assert set(states(as_user(doctor).get("/"))) == {"Mine"}
    assert set(states(as_user(colleague).get("/"))) == {"Theirs"}


def test_an_empty_day(as_user, doctor):
    page = as_user(doctor).get("/")
    assert "No appointments today." in page.text and "No one is waiting." in page.text


def steps(page):
    return [li["data-step"] for li in page.html.select("[data-checklist] li")]


def test_the_checklist_loses_each_step_when_done(as_user, make_user, dbsession, org):
    admin = make_user(org, role=Role.org_admin, name="Ada Admin")
    app = as_user(admin)
    assert steps(app.get("/")) == ["departments", "staff", "availability", "templates", "widgets"]
    dept = Department(organisation_id=org.id, name="Physio")
    dbsession.add(dept)
    dbsession.flush()
    assert steps(app.get("/")) == ["staff", "availability", "templates", "widgets"]
    doctor = make_user(org, name="Dr. Jansen")
    assert steps(app.get("/")) == ["availability", "templates", "widgets"]
    dbsession.add(
        AvailabilityBlock(
            organisation_id=org.id,
            practitioner_id=doctor.id,
            weekday=0,
            start_time=datetime(2026, 1, 1, 9).time(),
            end_time=datetime(2026, 1, 1, 12).time(),
            slot_minutes=20,
            gap_minutes=0,
        )
    )
    dbsession.add(TemplateSet(organisation_id=org.id, name="Ours", language="en"))
    dbsession.flush()
    assert steps(app.get("/")) == ["widgets"]
    org.embed_origins = ["https://clinic.example.org"]
    dbsession.flush()
    page = app.get("/")
    assert steps(page) == [] and not page.html.select("[data-checklist]")
    # The links lead to each step's page.
    assert as_user(admin).get("/departments").status_int == 200


def test_a_practitioner_sees_no_checklist_in_a_new_organisation(as_user, doctor):
    assert not as_user(doctor).get("/").html.select("[data-checklist]")


def test_plugin_cards_come_through_the_dashboard_slot(as_user, doctor, enable_plugin, org):
    enable_plugin(org, "hello")
    card = as_user(doctor).get("/").html.select_one(".hello-slot")
    assert card and "Dr. Jansen" in card.get_text()
