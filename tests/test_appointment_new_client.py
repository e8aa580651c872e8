"""The new-appointment form for a client who is not there yet, and client
numbers: a new client made on the form with the appointment (both saved,
or neither), placed by the segregation settings; the practitioner preset
only for a practitioner booking for themselves; a client number taken in a
department refused with a clear message, on the client form and inline,
also by two requests at once. Bad input: a message, nothing saved, never
a 500; another tenant's ids refused."""

import threading
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.tenancy.models import Department

from clients_support import errors, make_client, post
from realtime_support import Browser

NOW = datetime(2026, 6, 1, 8, 0)  # 10:00 in Amsterdam


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
def doctor(make_user, org, depts):
    return make_user(org, name="Dr. Jansen", department_id=depts[0].id)


@pytest.fixture
def as_user(webtest, login):
    def log_in(user):
        app = webtest("clinic")
        login(app, user)
        return app

    return log_in


@pytest.fixture
def admin(make_user, org):
    return make_user(org, role=Role.org_admin, name="Ada Admin")


def count(dbsession, model, org):
    dbsession.expire_all()
    return dbsession.scalar(
        select(func.count()).select_from(model).where(model.organisation_id == org.id)
    )


def new_client(**changes):
    data = {
        "new_client": "y",
        "new_client-initials": "B.",
        "new_client-last_name": "de Boer",
        "new_client-email": "b.deboer@example.org",
        "new_client-phone": "+31 6 1234 5678",
        "new_client-client_number": "EHR-7",
        "new_client-language": "nl",
    }
    data.update(changes)
    return data


def booking(practitioner, **changes):
    data = {
        "client_id": "",
        "practitioner_id": practitioner.id,
        "date": "2026-06-10",
        "start_time": "10:00",
        "duration_minutes": "20",
        "message": "",
        **new_client(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# ---- the practitioner preset


def test_the_practitioner_is_preset_only_for_a_practitioner(
    as_user, make_user, org, doctor, admin, depts
):
    def preset(user):
        page = as_user(user).get("/appointments/new")
        chosen = page.html.select_one("select[name=practitioner_id] option[selected]")
        return chosen["value"] if chosen else ""

    boss = make_user(org, role=Role.dept_admin, name="Bo Boss", department_id=depts[0].id)
    assert preset(doctor) == str(doctor.id)
    # Administrators book for someone else: they choose whom.
    assert preset(admin) == "" and preset(boss) == ""


# ---- the inline new client


def test_the_new_client_is_made_with_the_appointment(
    as_user, dbsession, org, doctor, depts, admin, smtp
):
    page = as_user(admin).get("/appointments/new")
    assert page.html.select_one("#new_client")["type"] == "checkbox"
    assert page.html.select_one("fieldset.new-client #new_client-last_name")
    response = post(as_user(admin), "/appointments/new", booking(doctor), status=303)
    [client] = dbsession.scalars(select(Client).where(Client.organisation_id == org.id)).all()
    assert (client.display_name, client.email, client.client_number, client.language) == (
        "B. de Boer",
        "b.deboer@example.org",
        "EHR-7",
        "nl",
    )
    # Whoever the appointment is with can see their client.
    assert client.practitioners == [doctor] and client.departments == [depts[0]]
    [appointment] = dbsession.scalars(select(Appointment)).all()
    assert appointment.client == client and response.follow().status_int == 200
    assert [m["To"] for m in smtp.messages] == ["b.deboer@example.org"]


def test_a_practitioners_new_client_is_theirs_and_their_departments(
    as_user, dbsession, org, doctor, depts
):
    org.settings = {**org.settings, "strict_departments": True, "strict_clients": True}
    dbsession.flush()
    post(as_user(doctor), "/appointments/new", booking(doctor), status=303)
    client = dbsession.scalars(select(Client).where(Client.organisation_id == org.id)).one()
    assert client.departments == [depts[0]] and client.practitioners == [doctor]
    # ... so that they find them in their list afterwards.
    assert "de Boer" in as_user(doctor).get("/clients").text


def test_under_strict_departments_someone_in_no_department_makes_no_client(
    as_user, make_user, dbsession, org, depts
):
    org.settings = {**org.settings, "strict_departments": True}
    loner = make_user(org, name="Dr. Alone")
    page = post(as_user(loner), "/appointments/new", booking(loner), status=200)
    assert "no department" in errors(page)["new_client"][0]
    assert count(dbsession, Client, org) == 0 and count(dbsession, Appointment, org) == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"new_client-last_name": ""}, "new_client-last_name"),
        ({"new_client-email": "not-an-address"}, "new_client-email"),
        ({"new_client-phone": "call me"}, "new_client-phone"),
        ({"new_client-language": "xx"}, "new_client-language"),
        ({"new_client-last_name": "Nul\x00"}, "new_client-last_name"),
        ({"new_client": None}, "client_id"),  # neither a client nor a new one
        ({"date": "2026-05-31"}, "start_time"),  # passed: the client is not made either
        ({"duration_minutes": "2"}, "duration_minutes"),
        ({"practitioner_id": "999999"}, "practitioner_id"),
    ],
)
def test_bad_input_saves_neither(as_user, dbsession, org, doctor, admin, changes, field):
    page = post(as_user(admin), "/appointments/new", booking(doctor, **changes), status=200)
    assert field in errors(page)
    assert count(dbsession, Client, org) == 0 and count(dbsession, Appointment, org) == 0


def test_a_chosen_client_and_a_new_one_are_refused(as_user, dbsession, org, doctor, admin):
    existing = make_client(dbsession, org, "Smit")
    page = post(
        as_user(admin), "/appointments/new", booking(doctor, client_id=existing.id), status=200
    )
    assert "not both" in errors(page)["client_id"][0]
    assert count(dbsession, Client, org) == 1 and count(dbsession, Appointment, org) == 0


def test_a_taken_slot_saves_no_new_client(as_user, dbsession, org, doctor, admin):
    existing = make_client(dbsession, org, "Smit")
    post(
        as_user(admin),
        "/appointments/new",
        booking(doctor, client_id=existing.id, new_client=None),
        status=303,
    )
    page = post(as_user(admin), "/appointments/new", booking(doctor), status=200)
    assert "start_time" in errors(page)
    assert count(dbsession, Client, org) == 1 and count(dbsession, Appointment, org) == 1


def test_another_tenants_practitioner_is_refused(
    as_user, make_organisation, make_user, dbsession, org, admin
):
    other = make_organisation("other", name="Other")
    stranger = make_user(other, name="Dr. Elsewhere")
    page = post(as_user(admin), "/appointments/new", booking(stranger), status=200)
    assert "practitioner_id" in errors(page)
    assert count(dbsession, Client, org) == 0 and count(dbsession, Client, other) == 0


# ---- client numbers


def test_a_taken_number_is_refused_inline(as_user, dbsession, org, doctor, depts, admin):
    make_client(dbsession, org, "Smit", client_number="EHR-7", departments=[depts[0]])
    page = post(as_user(admin), "/appointments/new", booking(doctor), status=200)
    assert "EHR-7 is already another client's" in errors(page)["new_client-client_number"][0]
    assert count(dbsession, Client, org) == 1 and count(dbsession, Appointment, org) == 0


def test_the_same_number_in_another_department_is_fine(
    as_user, dbsession, org, doctor, depts, admin
):
    make_client(dbsession, org, "Smit", client_number="EHR-7", departments=[depts[1]])
    post(as_user(admin), "/appointments/new", booking(doctor), status=303)
    assert count(dbsession, Client, org) == 2


CLIENT = {"last_name": "Visser", "client_number": "EHR-9", "language": "en"}


def test_the_client_form_refuses_a_taken_number(as_user, dbsession, org, depts, admin):
    app = as_user(admin)
    make_client(dbsession, org, "Smit", client_number="EHR-9", departments=[depts[0]])
    page = post(app, "/clients/new", {**CLIENT, "department_ids": depts[0].id}, status=200)
    assert (
        "EHR-9 is already another client's in this department" in (errors(page)["client_number"][0])
    )
    assert count(dbsession, Client, org) == 1
    post(app, "/clients/new", {**CLIENT, "department_ids": depts[1].id}, status=303)
    assert count(dbsession, Client, org) == 2


def test_clients_in_no_department_share_no_number(as_user, dbsession, org, admin):
    app = as_user(admin)
    make_client(dbsession, org, "Smit", client_number="EHR-9")
    page = post(app, "/clients/new", CLIENT, status=200)
    assert "EHR-9 is already another client's" in errors(page)["client_number"][0]
    other = make_client(dbsession, org, "Other", client_number="EHR-9", departments=[])
    assert other.id and count(dbsession, Client, org) == 2  # older data stays readable


def test_editing_keeps_its_own_number_but_cannot_take_anothers(
    as_user, dbsession, org, depts, admin
):
    app = as_user(admin)
    mine = make_client(dbsession, org, "Visser", client_number="EHR-9", departments=[depts[0]])
    make_client(dbsession, org, "Smit", client_number="EHR-1", departments=[depts[0]])
    edit = f"/clients/{mine.id}/edit"
    post(app, edit, {**CLIENT, "department_ids": depts[0].id, "phone": "0612"}, status=303)
    page = post(
        app, edit, {**CLIENT, "client_number": "EHR-1", "department_ids": depts[0].id}, status=200
    )
    assert "EHR-1 is already another client's" in errors(page)["client_number"][0]
    dbsession.expire_all()
    assert dbsession.get(Client, mine.id).client_number == "EHR-9"


def test_two_requests_at_once_save_one_number(server):
    """On the real server's database (SQLite, or PostgreSQL when
    CONSULTROOM_TEST_DB names one): of simultaneous saves of one number in
    one department, exactly one succeeds; the others are told."""
    org = server.organisation()
    dept = server.department(org, "Physio")
    admin = server.user(org, role=Role.org_admin)
    browsers = [Browser(server.port, org).log_in(admin) for _ in range(4)]
    tokens = [b.csrf_token() for b in browsers]
    barrier = threading.Barrier(len(browsers))
    answers = []

    def save(browser, token):
        barrier.wait()
        data = {**CLIENT, "department_ids": dept.id, "csrf_token": token}
        answers.append(browser.request("/clients/new", data))

    threads = [
        threading.Thread(target=save, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _headers, _page in answers)
    assert statuses == [200, 200, 200, 303], [page[:300] for _s, _h, page in answers]
    assert all(b"EHR-9 is already another client" in p for s, _h, p in answers if s == 200)
    numbers = server.query(select(Client.client_number).where(Client.organisation_id == org.id))
    assert numbers == [("EHR-9",)]


def test_the_api_refuses_a_taken_number_too(webtest, dbsession, org, depts):
    make_client(dbsession, org, "Smit", client_number="EHR-9", departments=[depts[0]])
    taken = make_client(dbsession, org, "Jong", client_number="EHR-3", departments=[depts[0]])
    key = org.rotate_api_key()
    dbsession.flush()
    app = webtest("clinic")
    headers = {"Authorization": f"Bearer {key}"}
    body = {"last_name": "Visser", "client_number": "EHR-9", "department_ids": [depts[0].id]}
    answer = app.post_json("/api/v1/clients", body, headers=headers, status=409).json
    assert "EHR-9 is already another client's" in answer["error"]
    assert answer["details"][0]["field"] == "client_number"
    assert count(dbsession, Client, org) == 2
    app.post_json(
        "/api/v1/clients", {**body, "department_ids": [depts[1].id]}, headers=headers, status=201
    )
    app.patch_json(
        f"/api/v1/clients/{taken.id}", {"client_number": "EHR-9"}, headers=headers, status=409
    )
    dbsession.expire_all()
    assert dbsession.get(Client, taken.id).client_number == "EHR-3"
