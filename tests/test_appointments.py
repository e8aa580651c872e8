"""Appointments in the staff interface: new, edit, cancel, quick consultation,
list with filters, today's overview and the detail page with the client's
link. Bad input is refused with a message and nothing saved; segregation
holds on every page."""

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.appointments.display import colour
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.tenancy.models import Department

from clients_support import errors, flashes, make_client, make_group, make_participant, post

NOW = datetime(2026, 6, 1, 8, 0)  # UTC: 10:00 in Amsterdam (summer time)
SLOT = datetime(2026, 6, 10, 8, 0)  # 10:00 in Amsterdam


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def depts(dbsession, org):
    made = [Department(organisation_id=org.id, name=n) for n in ("Dietetics", "Physio")]
    dbsession.add_all(made)
    dbsession.flush()
    return made


@pytest.fixture
def admin(make_user, dbsession, org):
    return make_user(org, role=Role.org_admin, name="Ada Admin")


@pytest.fixture
def doctor(make_user, dbsession, org, depts):
    return make_user(org, name="Dr. Jansen", department_id=depts[0].id)


@pytest.fixture
def other_doctor(make_user, dbsession, org, depts):
    return make_user(org, name="Dr. Peters", department_id=depts[1].id)


@pytest.fixture
def client(dbsession, org, doctor, depts):
    return make_client(
        dbsession,
        org,
        "Bakker",
        initials="A.",
        email="a.bakker@example.org",
        departments=[depts[0]],
        practitioners=[doctor],
    )


@pytest.fixture
def as_user(webtest, login):
    def log_in(user):
        app = webtest("clinic")
        login(app, user)
        return app

    return log_in


@pytest.fixture
def admin_app(as_user, admin):
    return as_user(admin)


def book(dbsession, org, client, practitioner=None, starts_at=SLOT, **kw):
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner=practitioner,
        starts_at=starts_at,
        duration_minutes=kw.pop("duration", 20),
        **kw,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return appointment


def appointments(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalars(
        select(Appointment).where(Appointment.organisation_id == org.id).order_by(Appointment.id)
    ).all()


def count(dbsession, org):
    return len(appointments(dbsession, org))


def form_data(client, practitioner, **changes):
    data = {
        "client_id": client.id,
        "practitioner_id": practitioner.id,
        "date": "2026-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# ---- new appointment


def test_new_appointment_in_local_time_with_participants_and_invitation(
    admin_app, dbsession, org, client, doctor, smtp
):
    family = make_group(dbsession, org, "Family")
    mother = make_participant(dbsession, org, "Moeder", groups=[family])
    father = make_participant(dbsession, org, "Vader", groups=[family])
    nurse = make_participant(dbsession, org, "Zuster")
    page = admin_app.get(f"/appointments/new?client={client.id}")
    assert page.html.select_one("input[type=hidden][name=client_id]")["value"] == str(client.id)
    assert page.html.select_one("#client_id")["value"] == "A. Bakker"
    response = post(
        admin_app,
        "/appointments/new",
        form_data(
            client,
            doctor,
            message="Bring your glasses.",
            group_ids=[family.id],
            participant_ids=[nurse.id, mother.id],
        ),
        status=303,
    )
    [appointment] = appointments(dbsession, org)
    assert appointment.starts_at == SLOT  # 10:00 Amsterdam summer time is 08:00 UTC
    assert (appointment.practitioner, appointment.client) == (doctor, client)
    assert appointment.kind is Kind.appointment and appointment.message == "Bring your glasses."
    assert {p.id for p in appointment.participants} == {mother.id, father.id, nurse.id}
    assert [m["To"] for m in smtp.messages] == ["a.bakker@example.org"]
    detail = response.follow()
    link = f"http://clinic.consultroom.test/c/{appointment.token}"
    assert detail.html.select_one("#client-link")["value"] == link
    assert "10-06-2026" in detail.text and "10:00" in detail.text
    assert not detail.html.select(".notice-no-mail")


def test_winter_time_is_converted_too(admin_app, dbsession, org, client, doctor):
    post(admin_app, "/appointments/new", form_data(client, doctor, date="2026-12-01"), status=303)
    assert appointments(dbsession, org)[0].starts_at == datetime(2026, 12, 1, 9, 0)


def test_preselect_ignores_a_client_out_of_sight(admin_app, make_organisation, dbsession):
    stranger = make_client(dbsession, make_organisation("other"), "Stranger")
    page = admin_app.get(f"/appointments/new?client={stranger.id}")
    assert page.html.select_one("input[type=hidden][name=client_id]")["value"] == ""
    assert "Stranger" not in page.text
    admin_app.get("/appointments/new?client=abc")  # nonsense: ignored, no error


@pytest.mark.parametrize(
    "changes, field, says",
    [
        ({"client_id": ""}, "client_id", "Choose a client"),
        ({"client_id": "999999"}, "client_id", "Choose one of the options"),
        ({"client_id": "abc"}, "client_id", ""),
        ({"practitioner_id": ""}, "practitioner_id", "Choose a practitioner"),
        ({"date": ""}, "date", ""),
        ({"date": "2026-02-30"}, "date", ""),
        ({"date": "9999-12-31"}, "date", "Check the year"),
        ({"date": "0001-01-01"}, "date", "Check the year"),
        ({"start_time": "25:00"}, "start_time", ""),
        ({"start_time": ""}, "start_time", ""),
        ({"date": "2026-05-31"}, "start_time", "This time has passed"),
        ({"date": "2027-03-28", "start_time": "02:30"}, "start_time", "does not exist"),
        ({"duration_minutes": "0"}, "duration_minutes", ""),
        ({"duration_minutes": "abc"}, "duration_minutes", ""),
        ({"duration_minutes": "100000"}, "duration_minutes", ""),
        ({"message": "x" * 2001}, "message", ""),
        ({"group_ids": "999999"}, "group_ids", ""),
        ({"participant_ids": "abc"}, "participant_ids", ""),
    ],
)
def test_bad_input_is_refused_with_a_message(
    admin_app, dbsession, org, client, doctor, changes, field, says
):
    page = post(admin_app, "/appointments/new", form_data(client, doctor, **changes))
    assert page.status_int == 200
    found = errors(page)
    assert field in found, found
    assert says in " ".join(found[field])
    assert count(dbsession, org) == 0


def test_another_organisations_practitioner_cannot_be_chosen(
    admin_app, dbsession, org, client, make_organisation, make_user
):
    stranger = make_user(make_organisation("other"), password=None)
    page = post(admin_app, "/appointments/new", form_data(client, stranger))
    assert "practitioner_id" in errors(page) and count(dbsession, org) == 0


def test_an_inactive_practitioner_is_not_offered(admin_app, dbsession, org, client, doctor):
    doctor.active = False
    dbsession.flush()
    page = post(admin_app, "/appointments/new", form_data(client, doctor))
    assert "practitioner_id" in errors(page) and count(dbsession, org) == 0


def test_slot_just_taken_reshows_the_form_and_saves_nothing(
    admin_app, dbsession, org, client, doctor, smtp
):
    book(dbsession, org, client, doctor)
    page = post(admin_app, "/appointments/new", form_data(client, doctor, message="Hello"))
    assert page.status_int == 200
    assert "just taken" in " ".join(errors(page)["start_time"])
    assert page.html.select_one("#message").text == "Hello"  # the form keeps what was typed
    assert count(dbsession, org) == 1 and smtp.messages == []
    # The transaction was left usable: another time saves fine.
    post(admin_app, "/appointments/new", form_data(client, doctor, start_time="10:30"), status=303)
    assert count(dbsession, org) == 2


def test_departments_only_with_strict_departments(admin_app, dbsession, org, client, doctor, depts):
    assert not admin_app.get("/appointments/new").html.select("#department_id")
    org.settings = {**org.settings, "strict_departments": True}
    dbsession.flush()
    page = admin_app.get("/appointments/new")
    assert [o.text for o in page.html.select("#department_id option")][1:] == [
        "Dietetics",
        "Physio",
    ]
    both = post(
        admin_app, "/appointments/new", form_data(client, doctor, department_id=depts[1].id)
    )
    assert "not both" in " ".join(errors(both)["department_id"])
    post(
        admin_app,
        "/appointments/new",
        form_data(client, doctor, practitioner_id="", department_id=depts[1].id),
        status=303,
    )
    [appointment] = appointments(dbsession, org)
    assert appointment.department == depts[1] and appointment.practitioner is None


# ---- edit and cancel


def test_edit_moves_the_appointment_and_tells_the_client(
    admin_app, dbsession, org, client, doctor, smtp
):
    appointment = book(dbsession, org, client, doctor, message="Old")
    page = admin_app.get(f"/appointments/{appointment.id}/edit")
    assert page.html.select_one("#start_time")["value"] == "10:00"
    assert page.html.select_one("#date")["value"] == "2026-06-10"
    post(
        admin_app,
        f"/appointments/{appointment.id}/edit",
        form_data(client, doctor, start_time="11:15", duration_minutes="30"),
        status=303,
    )
    [moved] = appointments(dbsession, org)
    assert (moved.starts_at, moved.duration_minutes) == (datetime(2026, 6, 10, 9, 15), 30)
    assert moved.sequence == 1 and moved.token == appointment.token
    assert len(smtp.messages) == 1


def test_edit_into_a_taken_slot_changes_nothing(admin_app, dbsession, org, client, doctor):
    book(dbsession, org, client, doctor, starts_at=SLOT + timedelta(hours=1))
    appointment = book(dbsession, org, client, doctor, message="Keep")
    page = post(
        admin_app,
        f"/appointments/{appointment.id}/edit",
        form_data(client, doctor, start_time="11:00", message="Changed"),
    )
    assert "just taken" in " ".join(errors(page)["start_time"])
    dbsession.expire_all()
    assert (appointment.starts_at, appointment.message, appointment.sequence) == (SLOT, "Keep", 0)


def test_a_past_appointment_keeps_its_time_on_edit(admin_app, dbsession, org, client, doctor):
    past = book(dbsession, org, client, doctor, starts_at=NOW - timedelta(days=2))
    post(
        admin_app,
        f"/appointments/{past.id}/edit",
        form_data(client, doctor, date="2026-05-30", message="Notes"),
        status=303,
    )
    dbsession.expire_all()
    assert past.message == "Notes"


def test_cancel(admin_app, dbsession, org, client, doctor, smtp):
    appointment = book(dbsession, org, client, doctor)
    page = post(admin_app, f"/appointments/{appointment.id}/cancel", {}, status=303).follow()
    dbsession.expire_all()
    assert appointment.status is Status.cancelled and appointment.sequence == 1
    assert "cancelled" in page.text and len(smtp.messages) == 1
    assert not page.html.select("form[action$='/cancel']")
    # Cancelling twice or editing a cancelled appointment changes nothing.
    post(admin_app, f"/appointments/{appointment.id}/cancel", {}, status=303)
    edit = admin_app.get(f"/appointments/{appointment.id}/edit", status=303).follow()
    assert any("cancelled" in f for f in flashes(edit))
    assert len(smtp.messages) == 1 and appointments(dbsession, org)[0].sequence == 1
    # The slot is free again.
    post(admin_app, "/appointments/new", form_data(client, doctor), status=303)


def test_cancel_needs_post(admin_app, dbsession, org, client, doctor):
    appointment = book(dbsession, org, client, doctor)
    admin_app.get(f"/appointments/{appointment.id}/cancel", status=404)
    assert appointments(dbsession, org)[0].status is Status.scheduled


# ---- quick consultation


def test_quick_consultation_starts_now_without_mail(as_user, dbsession, org, client, doctor, smtp):
    family = make_group(dbsession, org, "Family")
    sister = make_participant(dbsession, org, "Zus", groups=[family])
    app = as_user(doctor)
    page = app.get("/appointments/quick")
    assert page.html.select_one("#duration_minutes")["value"] == "20"
    response = post(
        app,
        "/appointments/quick",
        {"client_id": client.id, "duration_minutes": "20", "group_ids": family.id},
        status=303,
    )
    [quick] = appointments(dbsession, org)
    assert (quick.kind, quick.practitioner, quick.starts_at) == (Kind.quick, doctor, NOW)
    assert quick.participants == [sister] and smtp.messages == []
    detail = response.follow()
    assert detail.html.select_one("#client-link")["value"].endswith(f"/c/{quick.token}")


def test_quick_consultation_can_mail_the_link(as_user, dbsession, org, client, doctor, smtp):
    post(
        as_user(doctor),
        "/appointments/quick",
        {"client_id": client.id, "duration_minutes": "20", "send_link": "y"},
        status=303,
    )
    assert [m["To"] for m in smtp.messages] == ["a.bakker@example.org"]


def test_two_quick_consultations_at_once_are_fine(as_user, dbsession, org, client, doctor):
    app = as_user(doctor)
    for _ in range(2):
        post(
            app,
            "/appointments/quick",
            {"client_id": client.id, "duration_minutes": "20"},
            status=303,
        )
    assert count(dbsession, org) == 2


@pytest.mark.parametrize(
    "data, field",
    [
        ({"client_id": "", "duration_minutes": "20"}, "client_id"),
        ({"client_id": "CLIENT", "duration_minutes": "2"}, "duration_minutes"),
        ({"client_id": "CLIENT", "duration_minutes": "x"}, "duration_minutes"),
    ],
)
def test_quick_consultation_bad_input(as_user, dbsession, org, client, doctor, data, field):
    data = {k: (client.id if v == "CLIENT" else v) for k, v in data.items()}
    page = post(as_user(doctor), "/appointments/quick", data)
    assert page.status_int == 200 and field in errors(page)
    assert count(dbsession, org) == 0


# ---- the detail page's notice


def test_link_must_be_delivered_another_way_without_mail(admin_app, dbsession, org, client, doctor):
    appointment = book(dbsession, org, client, doctor)
    assert not admin_app.get(f"/appointments/{appointment.id}").html.select(".notice-no-mail")
    org.settings = {**org.settings, "no_emails": True}
    dbsession.flush()
    notice = admin_app.get(f"/appointments/{appointment.id}").html.select_one(".notice-no-mail")
    assert "sends no e-mails" in notice.text
    org.settings = {**org.settings, "no_emails": False}
    client.email = ""
    dbsession.flush()
    notice = admin_app.get(f"/appointments/{appointment.id}").html.select_one(".notice-no-mail")
    assert "no e-mail address" in notice.text


# ---- list and today


def listed_ids(page):
    return [int(a["href"].rsplit("/", 1)[1]) for a in page.html.select("tbody tr td:first-child a")]


def test_list_filters(admin_app, dbsession, org, client, doctor, other_doctor, depts):
    other_client = make_client(dbsession, org, "Visser")
    past = book(dbsession, org, client, doctor, starts_at=NOW - timedelta(days=1))
    first = book(dbsession, org, client, doctor)
    second = book(dbsession, org, other_client, other_doctor, starts_at=SLOT + timedelta(days=1))
    gone = book(
        dbsession, org, client, doctor, starts_at=SLOT + timedelta(days=2), status=Status.cancelled
    )
    assert listed_ids(admin_app.get("/appointments")) == [first.id, second.id, gone.id]
    everything = {"date_from": ""}
    assert listed_ids(admin_app.get("/appointments", everything)) == [
        past.id,
        first.id,
        second.id,
        gone.id,
    ]
    cases = [
        ({"practitioner": other_doctor.id}, [second.id]),
        ({"department": depts[0].id}, [past.id, first.id, gone.id]),
        ({"client": other_client.id}, [second.id]),
        ({"status": "cancelled"}, [gone.id]),
        ({"status": "scheduled", "practitioner": doctor.id}, [past.id, first.id]),
        ({"date_from": "2026-06-10", "date_to": "2026-06-11"}, [first.id, second.id]),
        ({"date_from": "11-06-2026", "date_to": "11-06-2026"}, [second.id]),
    ]
    for params, expected in cases:
        assert listed_ids(admin_app.get("/appointments", {**everything, **params})) == expected, (
            params
        )


def test_the_lists_first_load_shows_no_error(admin_app, dbsession, org, client, doctor):
    book(dbsession, org, client, doctor)
    page = admin_app.get("/appointments")
    assert not errors(page) and "Not a valid choice" not in page.text
    assert page.html.select_one("select[name=status] option[selected]")["value"] == ""


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "yesterday"},
        {"date_to": "2026-13-01"},
        {"practitioner": "x"},
        {"client": "99999999"},
        {"status": "maybe"},
        {"page": "-1"},
        {"date_from": "9999-01-01"},
    ],
)
def test_bad_filters_show_a_message_not_an_error(admin_app, dbsession, org, client, doctor, params):
    book(dbsession, org, client, doctor)
    page = admin_app.get("/appointments", params)
    assert page.status_int == 200
    if "page" not in params:
        assert errors(page)


def test_today_is_coloured_per_practitioner(
    admin_app, dbsession, org, client, doctor, other_doctor, depts
):
    early = book(dbsession, org, client, doctor, starts_at=NOW + timedelta(hours=1))
    book(dbsession, org, client, other_doctor, starts_at=NOW + timedelta(hours=2))
    late = book(dbsession, org, client, doctor, starts_at=datetime(2026, 6, 1, 21, 30))  # 23:30
    book(dbsession, org, client, doctor, starts_at=datetime(2026, 6, 1, 22, 30))  # tomorrow
    book(dbsession, org, client, doctor, starts_at=datetime(2026, 5, 31, 21, 30))  # yesterday
    page = admin_app.get("/appointments/today")
    rows = page.html.select("tbody tr")
    assert [r.select_one("td").text.strip() for r in rows] == ["11:00", "12:00", "23:30"]
    assert rows[0]["style"] == f"--who: {colour(doctor)}" == rows[2]["style"]
    assert rows[1]["style"] == f"--who: {colour(other_doctor)}" != rows[0]["style"]
    # Colour is not the only cue: the name is written in each row and the legend.
    assert [r.select("td")[1].text.strip() for r in rows] == [
        "Dr. Jansen",
        "Dr. Peters",
        "Dr. Jansen",
    ]
    assert [li.text.strip() for li in page.html.select(".legend li")] == [
        "Dr. Jansen",
        "Dr. Peters",
    ]
    # The same colour on every page view: derived from the id.
    again = admin_app.get("/appointments/today").html.select("tbody tr")
    assert [r["style"] for r in again] == [r["style"] for r in rows]
    by_dept = admin_app.get("/appointments/today", {"by": "department"}).html.select("tbody tr")
    assert [r["data-owner"] for r in by_dept] == [
        f"d{depts[0].id}",
        f"d{depts[1].id}",
        f"d{depts[0].id}",
    ]
    assert early.id != late.id


def test_menu_items(admin_app):
    menu = [a.text for a in admin_app.get("/appointments").html.select(".menu a")]
    assert {"Appointments", "Today", "Quick consultation"} <= set(menu)


def test_the_menu_marks_the_page_shown(admin_app):
    current = admin_app.get("/appointments/today").html.select(".menu [aria-current]")
    assert [(a.text, a["aria-current"]) for a in current] == [("Today", "page")]


# ---- segregation


@pytest.fixture
def strict_clients(dbsession, org):
    org.settings = {**org.settings, "strict_clients": True}
    dbsession.flush()


def test_strict_clients_keeps_other_practitioners_appointments_out_of_sight(
    as_user, dbsession, org, client, doctor, other_doctor, strict_clients, smtp
):
    mine = book(dbsession, org, client, doctor)
    theirs = book(dbsession, org, client, other_doctor, starts_at=NOW + timedelta(hours=1))
    app = as_user(doctor)
    everything = {"date_from": ""}
    assert listed_ids(app.get("/appointments", everything)) == [mine.id]
    # Filtering for the other practitioner is refused, not a way in.
    filtered = app.get("/appointments", {**everything, "practitioner": other_doctor.id})
    assert "practitioner" in errors(filtered) and theirs.id not in listed_ids(filtered)
    assert [a["href"] for a in app.get("/appointments/today").html.select("tbody a")] == []
    app.get(f"/appointments/{theirs.id}", status=404)
    app.get(f"/appointments/{theirs.id}/edit", status=404)
    post(app, f"/appointments/{theirs.id}/edit", form_data(client, other_doctor), status=404)
    post(app, f"/appointments/{theirs.id}/cancel", {}, status=404)
    dbsession.expire_all()
    assert theirs.status is Status.scheduled and smtp.messages == []
    # They can only book with themselves.
    offered = app.get("/appointments/new").html.select("#practitioner_id option")
    assert [o.text for o in offered] == ["—", "Dr. Jansen"]
    page = post(app, "/appointments/new", form_data(client, other_doctor))
    assert "practitioner_id" in errors(page)
    app.get(f"/appointments/{mine.id}")


def test_strict_departments_keeps_other_departments_out_of_sight(
    as_user, dbsession, org, client, doctor, other_doctor, depts
):
    org.settings = {**org.settings, "strict_departments": True}
    dbsession.flush()
    theirs = book(dbsession, org, client, other_doctor)
    dept_appointment = book(
        dbsession, org, client, None, department=depts[1], starts_at=SLOT + timedelta(hours=1)
    )
    app = as_user(doctor)
    assert listed_ids(app.get("/appointments")) == []
    for appointment in (theirs, dept_appointment):
        app.get(f"/appointments/{appointment.id}", status=404)
    page = app.get("/appointments/new")
    assert [o.text for o in page.html.select("#practitioner_id option")] == ["—", "Dr. Jansen"]
    assert [o.text for o in page.html.select("#department_id option")] == ["—", "Dietetics"]


def test_other_organisations_appointments_are_not_found(
    admin_app, dbsession, make_organisation, make_user
):
    other = make_organisation("other")
    stranger = make_client(dbsession, other, "Stranger")
    theirs = book(dbsession, other, stranger, make_user(other, password=None))
    for url in (f"/appointments/{theirs.id}", f"/appointments/{theirs.id}/edit"):
        admin_app.get(url, status=404)
    post(admin_app, f"/appointments/{theirs.id}/cancel", {}, status=404)
    assert listed_ids(admin_app.get("/appointments", {"date_from": ""})) == []
    dbsession.expire_all()
    assert theirs.status is Status.scheduled


def test_pages_need_a_login(webtest, org):
    app = webtest("clinic")
    for url in ("/appointments", "/appointments/new", "/appointments/today", "/appointments/quick"):
        assert "/login" in app.get(url, status=302).headers["Location"]


def test_the_sum_of_appointments_is_unchanged_by_refused_posts(admin_app, dbsession, org):
    # A post without any field at all: messages, no 500.
    page = post(admin_app, "/appointments/new", {})
    assert page.status_int == 200 and errors(page)
    assert dbsession.scalar(select(func.count()).select_from(Appointment)) == 0
