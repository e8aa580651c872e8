"""The booking widget: choose, see free slots, book with the client's details;
a taken slot gives "just taken" and saves nothing; frame-ancestors from the
organisation's embed origins; never another organisation's practitioner."""

import re
from datetime import date, datetime, time

import pytest
import time_machine
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.clients.models import Client
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department

NOW = datetime(2030, 6, 3, 8, 0)  # Monday 3 June 2030, 10:00 in Amsterdam
DAY = date(2030, 6, 4)  # the practitioner is available 09:00–11:00
FIRST_SLOT = "20300604T0700"  # 09:00 local in UTC


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW.isoformat() + "Z", tick=False):
        yield


@pytest.fixture
def org(make_organisation):
    return make_organisation(
        "acme",
        name="Acme Care",
        timezone="Europe/Amsterdam",
        embed_origins=["https://www.acme.example"],
    )


@pytest.fixture
def department(dbsession, org):
    dept = Department(organisation_id=org.id, name="Physio")
    dbsession.add(dept)
    dbsession.flush()
    return dept


@pytest.fixture
def practitioner(make_user, org, department, dbsession):
    user = make_user(org, role=Role.practitioner, name="Dr Jansen", department_id=department.id)
    dbsession.add(
        AvailabilityBlock(
            organisation_id=org.id,
            practitioner_id=user.id,
            on_date=DAY,
            start_time=time(9),
            end_time=time(11),
            slot_minutes=20,
            gap_minutes=10,
        )
    )
    dbsession.flush()
    return user


@pytest.fixture
def app(webtest):
    return webtest("acme")


def fill(form, **values):
    details = {
        "initials": "A.B.",
        "last_name": "Visser",
        "date_of_birth": "1980-02-03",
        "email": "visser@example.org",
        "phone": "0612345678",
        "language": "nl",
        "terms": True,
        **values,
    }
    for key, value in details.items():
        form[key] = value
    return form


def details_page(app, practitioner, start=FIRST_SLOT):
    return app.get(f"/book/practitioner/{practitioner.id}/details?start={start}")


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model))


def test_choose_list_and_book(app, practitioner, dbsession, smtp):
    page = app.get("/book")
    assert "frame-ancestors 'self' https://www.acme.example" in page.headers[
        "Content-Security-Policy"
    ].split("; ")
    page = page.click("Dr Jansen")
    slots = [a.get_text() for a in page.html.select("ul.slots a")]
    assert slots == ["09:00", "09:30", "10:00", "10:30"]
    page = page.click("09:00")
    assert "Content-Security-Policy" in page.headers
    response = fill(page.forms[0]).submit()
    assert response.status_int == 200
    assert "Your appointment is booked" in response.text
    appointment = dbsession.scalars(select(Appointment)).one()
    assert appointment.starts_at == datetime(2030, 6, 4, 7, 0)
    assert appointment.duration_minutes == 20
    assert appointment.practitioner_id == practitioner.id
    assert appointment.kind is Kind.appointment and appointment.status is Status.scheduled
    client = appointment.client
    assert (client.initials, client.last_name, client.date_of_birth, client.language) == (
        "A.B.",
        "Visser",
        date(1980, 2, 3),
        "nl",
    )
    assert client.practitioners == [practitioner]
    assert [d.id for d in client.departments] == [practitioner.department_id]
    # The invitation reached a real SMTP server.
    assert [m["To"] for m in smtp.messages] == ["visser@example.org"]
    # The booked slot is gone from the list.
    page = app.get(f"/book/practitioner/{practitioner.id}")
    assert [a.get_text() for a in page.html.select("ul.slots a")] == ["09:30", "10:00", "10:30"]


def test_never_attached_to_an_existing_client(app, practitioner, dbsession, org):
    existing = Client(
        organisation_id=org.id,
        last_name="Visser",
        email="visser@example.org",
        date_of_birth=date(1980, 2, 3),
    )
    dbsession.add(existing)
    dbsession.flush()
    fill(details_page(app, practitioner).forms[0]).submit(status=200)
    appointment = dbsession.scalars(select(Appointment)).one()
    assert appointment.client_id != existing.id
    assert count(dbsession, Client) == 2


def test_taken_slot_says_so_and_saves_nothing(app, webtest, practitioner, dbsession):
    form = fill(details_page(app, practitioner).forms[0])
    other = fill(details_page(webtest("acme"), practitioner).forms[0], last_name="Other")
    other.submit(status=200)
    response = form.submit(status=409)
    assert "This time was just taken by someone else. Choose another." in response.text
    assert count(dbsession, Appointment) == 1
    assert count(dbsession, Client) == 1
    assert dbsession.scalars(select(Client.last_name)).all() == ["Other"]


def test_race_lost_at_the_database_rolls_the_client_back(app, practitioner, dbsession, monkeypatch):
    """Both visitors saw the slot free: the unique index refuses the second."""
    form = fill(details_page(app, practitioner).forms[0])
    dbsession.add(
        Appointment(
            organisation_id=practitioner.organisation_id,
            practitioner_id=practitioner.id,
            starts_at=datetime(2030, 6, 4, 7, 0),
            duration_minutes=20,
        )
    )
    dbsession.flush()
    # Skip the friendly pre-check so that the insert itself collides.
    monkeypatch.setattr("consultroom.scheduling.service.taken_slots", lambda *a, **k: set())
    response = form.submit(status=409)
    assert "just taken" in response.text
    assert count(dbsession, Appointment) == 1
    assert count(dbsession, Client) == 0


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"last_name": "  "}, "last_name", "This field is required."),
        ({"email": "not-an-address"}, "email", "Invalid email address."),
        ({"date_of_birth": "3 feb"}, "date_of_birth", "Not a valid date value."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Give a date of birth in the past."),
        ({"terms": False}, "terms", "Tick this box to book."),
    ],
)
def test_bad_details_are_refused_with_a_message(
    app, practitioner, dbsession, values, field, message
):
    response = fill(details_page(app, practitioner).forms[0], **values).submit(status=200)
    errors = response.html.select(f"#{field}-help .error")
    assert [e.get_text() for e in errors] == [message]
    assert count(dbsession, Appointment) == 0 and count(dbsession, Client) == 0


def test_a_bad_language_is_refused(app, practitioner, dbsession):
    form = fill(details_page(app, practitioner).forms[0])
    response = app.post(
        form.action or f"/book/practitioner/{practitioner.id}/details",
        {**dict(form.submit_fields()), "language": "xx", "start": FIRST_SLOT},
        status=200,
    )
    assert response.html.select("#language-help .error")
    assert count(dbsession, Appointment) == 0


@pytest.mark.parametrize(
    "start",
    [
        "nonsense",
        "20300604T0710",
        "20300603T0700",
        "20300604T1100",
        "99999999T9999",
        "99991231T2359",
        "00010101T0000",
    ],
)
def test_a_start_that_is_no_free_slot_is_refused(app, practitioner, start, dbsession):
    response = app.get(f"/book/practitioner/{practitioner.id}/details?start={start}", status=409)
    assert "just taken" in response.text
    form = fill(details_page(app, practitioner).forms[0])
    form.fields["start"][0].value = start
    response = app.post(
        f"/book/practitioner/{practitioner.id}/details", dict(form.submit_fields()), status=409
    )
    assert count(dbsession, Appointment) == 0


def test_past_slots_are_not_offered(app, practitioner, dbsession, org):
    dbsession.add(
        AvailabilityBlock(
            organisation_id=org.id,
            practitioner_id=practitioner.id,
            on_date=date(2030, 6, 3),
            start_time=time(9),
            end_time=time(11),
            slot_minutes=20,
            gap_minutes=10,
        )
    )
    dbsession.flush()
    page = app.get(f"/book/practitioner/{practitioner.id}")
    today = page.html.select("ul.slots")[0]
    assert [a.get_text() for a in today.select("a")] == ["10:30"]  # 10:00 has started


def test_form_without_a_valid_token_is_refused(app, practitioner, dbsession):
    form = fill(details_page(app, practitioner).forms[0])
    form["form_token"] = "123.abc"
    response = form.submit(status=400)
    assert "Form expired" in response.text
    form["form_token"] = "9" * 5000
    form.submit(status=400)
    form["form_token"] = "١٢٣.é"
    form.submit(status=400)
    assert count(dbsession, Appointment) == 0


def test_the_form_works_without_any_cookie(app, webtest, practitioner, dbsession):
    """Inside a third-party iframe the browser sends no SameSite=Lax cookie."""
    form = fill(details_page(app, practitioner).forms[0])
    fields = dict(form.submit_fields())
    fresh = webtest("acme")  # an empty cookie jar
    response = fresh.post(
        f"/book/practitioner/{practitioner.id}/details?start={FIRST_SLOT}", fields, status=200
    )
    assert "Your appointment is booked" in response.text
    assert count(dbsession, Appointment) == 1


def test_another_organisations_practitioner_is_not_found(
    app, practitioner, make_organisation, make_user, dbsession
):
    other = make_organisation("other")
    stranger = make_user(other)
    dbsession.add(
        AvailabilityBlock(
            organisation_id=other.id,
            practitioner_id=stranger.id,
            on_date=DAY,
            start_time=time(9),
            end_time=time(11),
        )
    )
    dbsession.flush()
    for url in (
        f"/book/practitioner/{stranger.id}",
        f"/book/practitioner/{stranger.id}/details?start={FIRST_SLOT}",
    ):
        response = app.get(url, status=404)
        assert response.headers["Content-Security-Policy"].startswith("frame-ancestors")
    assert stranger.name not in app.get("/book").text


def test_inactive_practitioner_cannot_be_booked(app, practitioner, dbsession):
    practitioner.active = False
    dbsession.flush()
    app.get(f"/book/practitioner/{practitioner.id}", status=404)
    assert "Dr Jansen" not in app.get("/book").text


def test_department_booking_needs_strict_departments(app, org, department, dbsession, smtp):
    dbsession.add(
        AvailabilityBlock(
            organisation_id=org.id,
            department_id=department.id,
            on_date=DAY,
            start_time=time(9),
            end_time=time(10),
            slot_minutes=25,
            gap_minutes=5,
        )
    )
    dbsession.flush()
    app.get(f"/book/department/{department.id}", status=404)
    assert "Physio" not in app.get("/book").text
    org.settings = {**org.settings, "strict_departments": True}
    dbsession.flush()
    page = app.get("/book").click("Physio")
    assert [a.get_text() for a in page.html.select("ul.slots a")] == ["09:00", "09:30"]
    fill(page.click("09:30").forms[0]).submit(status=200)
    appointment = dbsession.scalars(select(Appointment)).one()
    assert appointment.department_id == department.id and appointment.practitioner_id is None
    assert appointment.duration_minutes == 25
    assert [d.id for d in appointment.client.departments] == [department.id]


def test_weeks_can_be_paged_and_bad_dates_are_ignored(app, practitioner):
    page = app.get(f"/book/practitioner/{practitioner.id}?from=2030-06-10")
    assert not page.html.select("ul.slots a")
    assert "No free times this week." in page.text
    page = page.click("Previous week")
    assert page.html.select("ul.slots a")
    for bad in ("junk", "1999-01-01", "9999-12-31", "2030-02-30"):
        app.get(f"/book/practitioner/{practitioner.id}?from={bad}", status=200)


def test_the_mailed_links_come_from_the_configuration(app, practitioner, smtp, monkeypatch):
    monkeypatch.setitem(
        app.app.registry.settings, "consultroom.public_url", "https://consultroom.test:8443"
    )
    fill(details_page(app, practitioner).forms[0]).submit(
        extra_environ={"HTTP_HOST": "acme.consultroom.test:1234"}
    )
    body = smtp.messages[0].get_body(("plain",)).get_content()
    links = set(re.findall(r"https?://[^/\s]+/(?:c|portal)/", body))
    assert "https://acme.consultroom.test:8443/c/" in links
    assert links <= {
        "https://acme.consultroom.test:8443/c/",
        "https://acme.consultroom.test:8443/portal/",
    }


@pytest.mark.parametrize(
    "purpose, bookable", [("walk_in", False), ("both", True), ("booking", True)]
)
def test_booking_uses_only_booking_time(app, practitioner, dbsession, purpose, bookable):
    block = dbsession.scalars(select(AvailabilityBlock)).one()
    block.purpose = purpose
    dbsession.flush()
    choose = app.get("/book")
    assert ("Dr Jansen" in choose.text) is bookable
    slots = app.get(f"/book/practitioner/{practitioner.id}?from={DAY.isoformat()}")
    assert bool(re.search(r"09:00", slots.text)) is bookable
    app.get(
        f"/book/practitioner/{practitioner.id}/details?start={FIRST_SLOT}",
        status=200 if bookable else 409,
    )
