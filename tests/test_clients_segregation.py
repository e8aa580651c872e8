"""Strictly segregated departments and clients, through every client page:
the list, the search, the detail page, the edit and delete pages and the
CSV export. A client someone may not see is absent everywhere and 404 by id;
another organisation's clients are 404 for everyone."""

from datetime import datetime

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.tenancy.models import Department

from clients_support import errors, export, listed, make_client, post

ALL = {"Own", "Colleague", "Elsewhere"}


class World:
    """Departments X and Y. Pia and Piet practise in X, Yara in Y; Dirk is
    X's department admin, Ada the organisation admin. Each practitioner has
    one client: Own (Pia's, in X), Colleague (Piet's, in X), Elsewhere
    (Yara's, in Y). Another organisation has Foreign."""

    def __init__(self, dbsession, make_organisation, make_user):
        self.db = dbsession
        self.org = make_organisation("acme")
        self.x, self.y = (Department(organisation_id=self.org.id, name=n) for n in "XY")
        dbsession.add_all([self.x, self.y])
        dbsession.flush()

        def user(role, dept=None):
            return make_user(self.org, role=role, department_id=dept and dept.id)

        self.pia = user(Role.practitioner, self.x)
        self.piet = user(Role.practitioner, self.x)
        self.yara = user(Role.practitioner, self.y)
        self.dirk = user(Role.dept_admin, self.x)
        self.ada = user(Role.org_admin)
        self.clients = {
            "Own": make_client(
                dbsession,
                self.org,
                "Own",
                [self.x],
                [self.pia],
                email="own@example.org",
                client_number="N-OWN",
            ),
            "Colleague": make_client(
                dbsession,
                self.org,
                "Colleague",
                [self.x],
                [self.piet],
                email="colleague@example.org",
                client_number="N-COL",
            ),
            "Elsewhere": make_client(
                dbsession,
                self.org,
                "Elsewhere",
                [self.y],
                [self.yara],
                email="elsewhere@example.org",
                client_number="N-ELS",
            ),
        }
        other = make_organisation("other")
        self.foreign = make_client(dbsession, other, "Foreign", email="foreign@example.org")

    def strict(self, departments=False, clients=False):
        self.org.settings = {"strict_departments": departments, "strict_clients": clients}
        self.db.flush()


@pytest.fixture
def world(dbsession, make_organisation, make_user):
    return World(dbsession, make_organisation, make_user)


@pytest.fixture
def app_for(webtest, login):
    def make(user):
        app = webtest("acme")
        login(app, user)
        return app

    return make


def assert_sees_exactly(app, world, names):
    """``names`` are visible through every channel; the others through none."""
    assert set(listed(app.get("/clients"))) == names
    assert {row[2] for row in export(app)[1][1:]} == names
    for name, client in world.clients.items():
        found_by = [
            listed(app.get("/clients", params={"q": q}))
            for q in (name.lower(), client.email.upper(), client.client_number)
        ]
        if name in names:
            assert found_by == [[name]] * 3
            assert export(app, q=name)[1][1][2] == name
            assert name in app.get(f"/clients/{client.id}").text
            app.get(f"/clients/{client.id}/edit", status=200)
        else:
            assert found_by == [[]] * 3
            assert export(app, q=name)[1][1:] == []
            assert_not_found(app, client)


def assert_not_found(app, client):
    app.get(f"/clients/{client.id}", status=404)
    app.get(f"/clients/{client.id}/edit", status=404)
    post(
        app, f"/clients/{client.id}/edit", {"last_name": "Taken over", "language": "en"}, status=404
    )
    post(app, f"/clients/{client.id}/delete", {}, status=404)


def assert_untouched(world):
    world.db.expire_all()
    names = set(world.db.scalars(select(Client.last_name)))
    assert names == ALL | {"Foreign"}


@pytest.mark.parametrize(
    "who, departments, clients, sees",
    [
        # Nothing strict: all staff see every client of the organisation.
        ("pia", False, False, ALL),
        ("dirk", False, False, ALL),
        # Strict clients: a practitioner sees their own clients only.
        ("pia", False, True, {"Own"}),
        ("piet", False, True, {"Colleague"}),
        ("dirk", False, True, ALL),  # a department admin is not a practitioner
        # Strict departments: staff see their department's clients only.
        ("pia", True, False, {"Own", "Colleague"}),
        ("dirk", True, False, {"Own", "Colleague"}),
        ("yara", True, False, {"Elsewhere"}),
        # Both.
        ("pia", True, True, {"Own"}),
        ("dirk", True, True, {"Own", "Colleague"}),
        # Organisation admins see everything, always.
        ("ada", True, True, ALL),
    ],
)
def test_segregation(world, app_for, who, departments, clients, sees):
    world.strict(departments=departments, clients=clients)
    app = app_for(getattr(world, who))
    assert_sees_exactly(app, world, sees)
    assert_untouched(world)


@pytest.mark.parametrize("who", ["pia", "dirk", "ada"])
def test_another_organisations_client_is_not_found(world, app_for, who):
    app = app_for(getattr(world, who))
    assert_not_found(app, world.foreign)
    for q in ("foreign", "foreign@example.org"):
        assert listed(app.get("/clients", params={"q": q})) == []
        assert export(app, q=q)[1][1:] == []
    assert_untouched(world)


def test_a_client_page_shows_only_appointments_the_viewer_may_see(world, app_for):
    """Own has an appointment with Pia and one with Piet (a second opinion);
    under strict clients Pia sees only hers."""
    world.strict(clients=True)
    own = world.clients["Own"]
    world.db.add_all(
        [
            Appointment(
                organisation_id=world.org.id,
                client_id=own.id,
                practitioner_id=who.id,
                starts_at=datetime(2030, 1, 1 + n, 9),
            )
            for n, who in enumerate((world.pia, world.piet))
        ]
    )
    world.db.flush()
    pia_rows = app_for(world.pia).get(f"/clients/{own.id}").html.select("tr.appointment")
    assert [r.find_all("td")[2].get_text() for r in pia_rows] == [world.pia.name]
    ada_rows = app_for(world.ada).get(f"/clients/{own.id}").html.select("tr.appointment")
    assert len(ada_rows) == 2


# ---- creating and editing under segregation: the creator keeps sight


def new_client(dbsession, name):
    dbsession.expire_all()
    return dbsession.scalars(select(Client).where(Client.last_name == name)).one_or_none()


def test_strict_departments_preselects_and_requires_the_creators_department(
    world, app_for, dbsession
):
    world.strict(departments=True)
    app = app_for(world.pia)
    form = app.get("/clients/new").forms[1]
    assert form["department_ids"].value == [str(world.x.id)]
    form["last_name"] = "New"
    form["department_ids"] = [str(world.y.id)]
    page = form.submit(status=200)
    assert "Keep your own department" in errors(page)["department_ids"][0]
    assert new_client(dbsession, "New") is None
    form = page.forms[1]
    form["department_ids"] = [str(world.x.id), str(world.y.id)]
    form.submit(status=303)
    assert {d.name for d in new_client(dbsession, "New").departments} == {"X", "Y"}
    assert "New" in listed(app.get("/clients"))


def test_strict_departments_staff_without_a_department_cannot_create(
    world, app_for, dbsession, make_user
):
    world.strict(departments=True)
    loner = make_user(world.org, role=Role.dept_admin)
    page = post(
        app_for(loner),
        "/clients/new",
        {"last_name": "New", "language": "en", "department_ids": world.x.id},
    )
    assert "You are in no department" in errors(page)["department_ids"][0]
    assert new_client(dbsession, "New") is None


def test_strict_departments_an_edit_cannot_move_the_client_out_of_sight(world, app_for, dbsession):
    world.strict(departments=True)
    own = world.clients["Own"]
    page = post(
        app_for(world.dirk),
        f"/clients/{own.id}/edit",
        {"last_name": "Own", "language": "en", "department_ids": world.y.id},
    )
    assert "department_ids" in errors(page)
    dbsession.expire_all()
    assert [d.name for d in own.departments] == ["X"]


def test_strict_clients_a_practitioners_new_client_is_theirs(world, app_for, dbsession):
    world.strict(clients=True)
    app = app_for(world.pia)
    form = app.get("/clients/new").forms[1]
    form["last_name"] = "New"
    form["practitioner_ids"] = [str(world.piet.id)]  # for a colleague: Pia is added too
    form.submit(status=303)
    assert {u.id for u in new_client(dbsession, "New").practitioners} == {
        world.pia.id,
        world.piet.id,
    }
    assert "New" in listed(app.get("/clients"))


def test_strict_clients_a_practitioner_cannot_hand_a_client_away_by_editing(
    world, app_for, dbsession
):
    world.strict(clients=True)
    own = world.clients["Own"]
    page = post(
        app_for(world.pia),
        f"/clients/{own.id}/edit",
        {
            "last_name": "Own",
            "language": "en",
            "department_ids": world.x.id,
            "practitioner_ids": world.piet.id,
        },
    )
    assert "Keep yourself among the client's practitioners" in errors(page)["practitioner_ids"][0]
    dbsession.expire_all()
    assert [u.id for u in own.practitioners] == [world.pia.id]


def test_org_admins_create_without_restrictions(world, app_for, dbsession):
    world.strict(departments=True, clients=True)
    post(app_for(world.ada), "/clients/new", {"last_name": "New", "language": "en"}, status=303)
    created = new_client(dbsession, "New")
    assert created.departments == [] and created.practitioners == []
