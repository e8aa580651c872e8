"""Clients in the staff interface: create, edit, search, page through,
export, delete; every bad input refused with a message and nothing saved."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.tenancy.models import Department

from clients_support import errors, export, flashes, listed, make_client, post


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care", language="nl")


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
def admin_app(webtest, login, admin):
    app = webtest("acme")
    login(app, admin)
    return app


def client_count(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalar(
        select(func.count()).select_from(Client).where(Client.organisation_id == org.id)
    )


def the_client(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalars(select(Client).where(Client.organisation_id == org.id)).one()


VALID = {
    "initials": "J.",
    "last_name": "Jansen",
    "date_of_birth": "31-12-1980",
    "email": "J.Jansen@Example.org",
    "phone": "+31 6 1234 5678",
    "client_number": "EHR-1001",
    "language": "de",
}


# ---- create and edit


def test_create_with_every_field(admin_app, dbsession, org, depts, make_user):
    doctor = make_user(org, role=Role.practitioner, name="Dr Doe")
    form = admin_app.get("/clients/new").forms[1]
    assert form["language"].value == "nl"  # the organisation's language by default
    for name, value in VALID.items():
        form[name] = value
    form["department_ids"] = [str(depts[1].id)]
    form["practitioner_ids"] = [str(doctor.id)]
    response = form.submit(status=303)
    client = the_client(dbsession, org)
    assert response.location.endswith(f"/clients/{client.id}")
    assert (
        client.initials,
        client.last_name,
        client.date_of_birth,
        client.email,
        client.phone,
        client.client_number,
        client.language,
    ) == (
        "J.",
        "Jansen",
        date(1980, 12, 31),
        "j.jansen@example.org",
        "+31 6 1234 5678",
        "EHR-1001",
        "de",
    )
    assert [d.name for d in client.departments] == ["Physio"]
    assert [u.name for u in client.practitioners] == ["Dr Doe"]
    page = response.follow()
    assert flashes(page) == ["J. Jansen is saved."]
    assert "31-12-1980" in page.text and "Physio" in page.text and "Dr Doe" in page.text


def test_iso_date_and_optional_fields(admin_app, dbsession, org):
    post(
        admin_app,
        "/clients/new",
        {"last_name": "Bakker", "date_of_birth": "1975-04-03", "language": "en"},
        status=303,
    )
    client = the_client(dbsession, org)
    assert client.date_of_birth == date(1975, 4, 3)
    assert (client.email, client.phone, client.departments, client.practitioners) == (
        "",
        "",
        [],
        [],
    )


def test_edit_shows_and_changes_values(admin_app, dbsession, org, depts, admin):
    client = make_client(
        dbsession,
        org,
        "Smit",
        departments=depts,
        practitioners=[admin],
        date_of_birth=date(1990, 1, 2),
        client_number="7",
    )
    form = admin_app.get(f"/clients/{client.id}/edit").forms[1]
    assert form["date_of_birth"].value == "02-01-1990"
    assert sorted(form["department_ids"].value) == sorted(str(d.id) for d in depts)
    assert form["practitioner_ids"].value == [str(admin.id)]
    form["last_name"] = "Smits"
    form["department_ids"] = [str(depts[0].id)]
    form["practitioner_ids"] = []
    form.submit(status=303)
    client = the_client(dbsession, org)
    assert client.last_name == "Smits"
    assert [d.name for d in client.departments] == ["Dietetics"]
    assert client.practitioners == []


def test_an_inactive_practitioner_stays_assigned_on_save(admin_app, dbsession, org, make_user):
    gone = make_user(org, role=Role.practitioner, name="Gone", active=False)
    client = make_client(dbsession, org, "Smit", practitioners=[gone])
    form = admin_app.get(f"/clients/{client.id}/edit").forms[1]
    form.submit(status=303)
    assert [u.name for u in the_client(dbsession, org).practitioners] == ["Gone"]
    # ...but an inactive one cannot be newly chosen.
    other = make_client(dbsession, org, "Other")
    page = post(
        admin_app,
        f"/clients/{other.id}/edit",
        {"last_name": "Other", "language": "en", "practitioner_ids": gone.id},
    )
    assert "practitioner_ids" in errors(page)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"last_name": ""}, "last_name", "This field is required."),
        ({"last_name": "   "}, "last_name", "This field is required."),
        ({"last_name": "x" * 201}, "last_name", "Field cannot be longer than 200 characters."),
        ({"last_name": "Jan\x00sen"}, "last_name", "Remove the special (control) characters"),
        ({"initials": "x" * 21}, "initials", "Field cannot be longer than 20 characters."),
        ({"client_number": "12\n34"}, "client_number", "Remove the special (control) characters"),
        ({"date_of_birth": "31-02-1980"}, "date_of_birth", "Enter the date as dd-mm-yyyy"),
        ({"date_of_birth": "12/31/1980"}, "date_of_birth", "Enter the date as dd-mm-yyyy"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "Enter the date as dd-mm-yyyy"),
        (
            {"date_of_birth": "15-06-2024"},
            "date_of_birth",
            "The date of birth must be in the past.",
        ),
        (
            {"date_of_birth": "2024-06-16"},
            "date_of_birth",
            "The date of birth must be in the past.",
        ),
        ({"date_of_birth": "01-01-1850"}, "date_of_birth", "before 1900"),
        ({"email": "not-an-address"}, "email", "Invalid email address."),
        ({"email": "a@b.org\x00"}, "email", "Remove the special (control) characters"),
        ({"phone": "call me"}, "phone", "Use digits, spaces and + ( ) - only."),
        ({"language": "xx"}, "language", "Not a valid choice."),
        ({"department_ids": "abc"}, "department_ids", "Invalid choice(s)"),
        ({"department_ids": "999999"}, "department_ids", "not a valid choice"),
        ({"practitioner_ids": "-1"}, "practitioner_ids", "not a valid choice"),
    ],
)
@time_machine.travel(datetime(2024, 6, 15, 10, 0), tick=False)
def test_bad_input_is_refused_with_a_message(admin_app, dbsession, org, changes, field, message):
    page = post(admin_app, "/clients/new", {**VALID, **changes}, status=200)
    found = errors(page)
    assert list(found) == [field]
    assert message in found[field][0]
    assert client_count(dbsession, org) == 0


def test_bad_input_on_edit_changes_nothing(admin_app, dbsession, org):
    client = make_client(dbsession, org, "Smit", email="smit@example.org")
    page = post(
        admin_app,
        f"/clients/{client.id}/edit",
        {**VALID, "email": "broken", "last_name": "Changed"},
        status=200,
    )
    assert "email" in errors(page)
    assert page.html.find("input", attrs={"name": "last_name"})["value"] == "Changed"
    client = the_client(dbsession, org)
    assert (client.last_name, client.email) == ("Smit", "smit@example.org")


def test_another_organisations_department_or_practitioner_is_refused(
    admin_app, dbsession, org, make_organisation, make_user
):
    other = make_organisation("other")
    their_dept = Department(organisation_id=other.id, name="Theirs")
    dbsession.add(their_dept)
    dbsession.flush()
    their_doctor = make_user(other, role=Role.practitioner)
    page = post(
        admin_app,
        "/clients/new",
        {**VALID, "department_ids": their_dept.id, "practitioner_ids": their_doctor.id},
    )
    assert set(errors(page)) == {"department_ids", "practitioner_ids"}
    assert client_count(dbsession, org) == 0


# ---- list, search and paging


@pytest.fixture
def several(dbsession, org, depts):
    return [
        make_client(
            dbsession,
            org,
            "Jansen",
            initials="P.",
            email="piet@Example.org",
            client_number="A-100",
            departments=[depts[0]],
        ),
        make_client(
            dbsession,
            org,
            "de Vries",
            initials="A.",
            email="anna@devries.nl",
            client_number="B-200",
        ),
        make_client(
            dbsession, org, "Janssens", initials="K.", email="k@100%.be", client_number="C_300"
        ),
    ]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("", ["A. de Vries", "P. Jansen", "K. Janssens"]),
        ("jans", ["P. Jansen", "K. Janssens"]),  # part of the name, any case
        ("JANSSENS", ["K. Janssens"]),
        ("b-2", ["A. de Vries"]),  # part of the client number
        ("example.ORG", ["P. Jansen"]),  # part of the e-mail address
        ("p. jansen", ["P. Jansen"]),  # every word must match
        ("100", ["P. Jansen", "K. Janssens"]),
        ("%", ["K. Janssens"]),  # LIKE wildcards are literal
        ("c_3", ["K. Janssens"]),
        ("_", ["K. Janssens"]),
        ("nobody", []),
        ("jan\x00sen", ["P. Jansen"]),  # NUL dropped, never a 500
    ],
)
def test_search(admin_app, several, q, expected):
    page = admin_app.get("/clients", params={"q": q})
    assert listed(page) == expected
    if not expected:
        assert "No client matches" in page.text


def test_each_row_books_an_appointment_for_that_client(admin_app, several):
    page = admin_app.get("/clients", params={"q": "vries"})
    links = [a["href"] for a in page.html.select("tbody a.book")]
    assert links == [f"/appointments/new?client={several[1].id}"]
    detail = admin_app.get(f"/clients/{several[1].id}")
    assert f'href="/appointments/new?client={several[1].id}"' in detail.text


def test_paging(admin_app, dbsession, org):
    for n in range(30):
        make_client(dbsession, org, f"Client {n:02d}")
    first = admin_app.get("/clients")
    assert len(listed(first)) == 25 and listed(first)[0] == "Client 00"
    second = admin_app.get("/clients", params={"page": "2"})
    assert listed(second) == [f"Client {n}" for n in range(25, 30)]
    assert "Page 2 of 2" in second.text
    for nonsense in ("0", "-1", "abc", "1e3", "٢", "9" * 50):
        assert listed(admin_app.get("/clients", params={"page": nonsense}))[0] == "Client 00"
    assert listed(admin_app.get("/clients", params={"page": "999"})) == listed(second)
    # Paging keeps the search.
    searched = admin_app.get("/clients", params={"q": "client", "page": "2"})
    assert 'href="/clients?q=client&amp;page=1"' in searched.text


# ---- detail


def test_detail_shows_the_clients_appointments_in_local_time(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Smit")
    other = make_client(dbsession, org, "Other")
    dbsession.add_all(
        [
            Appointment(
                organisation_id=org.id,
                client_id=client.id,
                practitioner_id=admin.id,
                starts_at=datetime(2030, 7, 1, 8, 0),
                duration_minutes=30,
            ),
            Appointment(
                organisation_id=org.id,
                client_id=other.id,
                practitioner_id=admin.id,
                starts_at=datetime(2030, 7, 2, 8, 0),
            ),
        ]
    )
    dbsession.flush()
    rows = admin_app.get(f"/clients/{client.id}").html.select("tr.appointment")
    assert len(rows) == 1
    cells = [td.get_text(strip=True) for td in rows[0].find_all("td")]
    assert cells == ["01-07-2030 10:00", "30 min", "Ada Admin", "Scheduled"]  # Amsterdam, summer


# ---- export


def test_export_lists_the_clients_as_an_attachment(admin_app, dbsession, org, depts, admin):
    make_client(
        dbsession,
        org,
        "Jansen",
        initials="P.",
        email="p@example.org",
        client_number="A-1",
        date_of_birth=date(1980, 5, 6),
        language="nl",
        departments=depts,
        practitioners=[admin],
        phone="06 123",
    )
    response, rows = export(admin_app)
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="clients.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    assert rows == [
        [
            "Client number",
            "Initials",
            "Last name",
            "Date of birth",
            "E-mail address",
            "Phone",
            "Language",
            "Departments",
            "Practitioners",
        ],
        [
            "A-1",
            "P.",
            "Jansen",
            "1980-05-06",
            "p@example.org",
            "06 123",
            "nl",
            "Dietetics; Physio",
            "Ada Admin",
        ],
    ]


def test_export_follows_the_search(admin_app, several):
    _, rows = export(admin_app, q="jans")
    assert [r[2] for r in rows[1:]] == ["Jansen", "Janssens"]


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://x")', "+31 6 123", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_export_defuses_formulas(admin_app, dbsession, org, value):
    make_client(dbsession, org, value, client_number=value, email=value)
    _, rows = export(admin_app)
    number, _initials, last_name, _dob, email = rows[1][:5]
    assert number == last_name == email == "'" + value


def test_export_keeps_harmless_cells_as_they_are(admin_app, dbsession, org):
    make_client(dbsession, org, "O'Neill = fine", client_number="12-3")
    _, rows = export(admin_app)
    assert rows[1][:3] == ["12-3", "", "O'Neill = fine"]


# ---- delete


def test_delete(admin_app, dbsession, org, depts):
    client_id = make_client(dbsession, org, "Smit", departments=depts).id
    admin_app.get(f"/clients/{client_id}/delete", status=404)  # POST only
    page = post(admin_app, f"/clients/{client_id}/delete", {}, status=303).follow()
    assert flashes(page) == ["Smit is deleted."]
    assert client_count(dbsession, org) == 0
    post(admin_app, f"/clients/{client_id}/delete", {}, status=404)


def test_a_client_with_upcoming_appointments_is_not_deleted(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Smit")
    past = Appointment(
        organisation_id=org.id,
        client_id=client.id,
        practitioner_id=admin.id,
        starts_at=datetime.utcnow() - timedelta(days=3),
    )
    coming = Appointment(
        organisation_id=org.id,
        client_id=client.id,
        practitioner_id=admin.id,
        starts_at=datetime.utcnow() + timedelta(days=3),
    )
    dbsession.add_all([past, coming])
    dbsession.flush()
    page = post(admin_app, f"/clients/{client.id}/delete", {}, status=303).follow()
    assert flashes(page) == ["Smit has 1 upcoming appointment(s): cancel them first."]
    assert client_count(dbsession, org) == 1
    dbsession.delete(coming)
    dbsession.flush()
    post(admin_app, f"/clients/{client.id}/delete", {}, status=303)
    assert client_count(dbsession, org) == 0
    dbsession.refresh(past)
    assert past.client_id is None  # the past appointment stays, without the client


def test_a_department_with_clients_is_not_deleted(admin_app, dbsession, org, depts):
    make_client(dbsession, org, "Smit", departments=[depts[0]])
    make_client(dbsession, org, "Bos", departments=[depts[0], depts[1]])
    page = post(admin_app, f"/departments/{depts[0].id}/delete", {}, status=303).follow()
    assert "2 client(s) still belong to this department." in flashes(page)
    dbsession.expire_all()
    assert dbsession.get(Department, depts[0].id) is not None


# ---- menu and permissions


def test_every_staff_member_has_the_menu_entries(webtest, login, make_user, dbsession, org):
    app = webtest("acme")
    login(app, make_user(org, role=Role.practitioner))
    menu = [a.get_text() for a in app.get("/").html.select("nav.menu a")]
    assert {"Clients", "Groups", "Participants"} <= set(menu)


def test_anonymous_visitors_are_sent_to_the_login(webtest, org, dbsession):
    client = make_client(dbsession, org, "Smit")
    app = webtest("acme")
    for url in ("/clients", "/clients/new", "/clients/export.csv", f"/clients/{client.id}"):
        assert "/login" in app.get(url, status=302).location
