"""Departments: created, renamed and deleted by organisation admins; a
department admin manages only their own; never another organisation's."""

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.tenancy.models import Department


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def make_department(dbsession):
    def make(organisation, name):
        dept = Department(organisation_id=organisation.id, name=name)
        dbsession.add(dept)
        dbsession.flush()
        return dept

    return make


@pytest.fixture
def admin_app(webtest, login, make_user, org):
    app = webtest("acme")
    login(app, make_user(org, role=Role.org_admin))
    return app


def form_at(page, action=""):
    found = [f for f in page.forms.values() if f.action == action]
    assert len(found) == 1, [f.action for f in page.forms.values()]
    return found[0]


def names(dbsession, organisation):
    dbsession.expire_all()
    return sorted(
        dbsession.scalars(
            select(Department.name).where(Department.organisation_id == organisation.id)
        )
    )


def flashes(page):
    return [p.get_text() for p in page.html.select("p.flash")]


def token(app):
    return app.get("/profile").html.find("input", attrs={"name": "csrf_token"})["value"]


def test_create_and_list(admin_app, dbsession, org):
    page = admin_app.get("/departments")
    assert "There are no departments yet." in page.text
    form = form_at(admin_app.get("/departments/new"))
    form["name"] = "  Physiotherapy  "
    response = form.submit(status=303)
    assert response.location.endswith("/departments")
    page = response.follow()
    assert flashes(page) == ["The department is saved."]
    assert [td.text for td in page.html.select("tbody td:first-child")] == ["Physiotherapy"]
    assert names(dbsession, org) == ["Physiotherapy"]


def test_a_name_is_required_and_unique(admin_app, dbsession, org, make_department):
    make_department(org, "Physiotherapy")
    form = form_at(admin_app.get("/departments/new"))
    form["name"] = "   "
    response = form.submit(status=200)
    assert "This field is required." in response.text
    form = form_at(response)
    form["name"] = "Physiotherapy"
    response = form.submit(status=200)
    assert "There is already a department with this name." in response.text
    assert names(dbsession, org) == ["Physiotherapy"]


def test_the_same_name_in_another_organisation_is_fine(
    admin_app, dbsession, org, make_organisation, make_department
):
    make_department(make_organisation("other"), "Physiotherapy")
    form = form_at(admin_app.get("/departments/new"))
    form["name"] = "Physiotherapy"
    form.submit(status=303)
    assert names(dbsession, org) == ["Physiotherapy"]


def test_rename(admin_app, dbsession, org, make_department):
    dept = make_department(org, "Physio")
    make_department(org, "Dentistry")
    page = admin_app.get(f"/departments/{dept.id}")
    form = form_at(page)
    assert form["name"].value == "Physio"
    form["name"] = "Dentistry"
    response = form.submit(status=200)
    assert "There is already a department with this name." in response.text
    assert names(dbsession, org) == ["Dentistry", "Physio"]

    form = form_at(response)
    form["name"] = "Physiotherapy"
    form.submit(status=303)
    assert names(dbsession, org) == ["Dentistry", "Physiotherapy"]
    # Saving under its own name is no clash.
    form_at(admin_app.get(f"/departments/{dept.id}")).submit(status=303)
    assert names(dbsession, org) == ["Dentistry", "Physiotherapy"]


def test_delete_is_refused_while_staff_belong_to_it(
    admin_app, dbsession, org, make_department, make_user
):
    dept = make_department(org, "Physiotherapy")
    make_user(org, department_id=dept.id)
    make_user(org, department_id=dept.id, active=False)
    page = admin_app.get("/departments")
    response = form_at(page, f"/departments/{dept.id}/delete").submit(status=303)
    messages = flashes(response.follow())
    assert messages == [
        "2 staff member(s) still belong to this department.",
        "Physiotherapy was not deleted.",
    ]
    assert names(dbsession, org) == ["Physiotherapy"]


def test_delete_an_empty_department(admin_app, dbsession, org, make_department, make_user):
    dept = make_department(org, "Physiotherapy")
    make_department(org, "Dentistry")
    make_user(org)  # staff without a department do not block
    page = admin_app.get("/departments")
    response = form_at(page, f"/departments/{dept.id}/delete").submit(status=303)
    assert flashes(response.follow()) == ["Physiotherapy is deleted."]
    assert names(dbsession, org) == ["Dentistry"]


def test_delete_needs_a_post_and_csrf(admin_app, dbsession, org, make_department):
    dept = make_department(org, "Physiotherapy")
    admin_app.get(f"/departments/{dept.id}/delete", status=404)
    admin_app.post(f"/departments/{dept.id}/delete", status=400)
    admin_app.post(f"/departments/{dept.id}/delete", {"csrf_token": "nope"}, status=400)
    admin_app.post(f"/departments/{dept.id}", {"name": "Renamed"}, status=400)
    admin_app.post("/departments/new", {"name": "New"}, status=400)
    assert names(dbsession, org) == ["Physiotherapy"]


# -- department admins -----------------------------------------------------


@pytest.fixture
def dept_admin_setup(webtest, login, make_user, org, make_department):
    own = make_department(org, "Physiotherapy")
    other = make_department(org, "Dentistry")
    app = webtest("acme")
    login(app, make_user(org, role=Role.dept_admin, department_id=own.id))
    return app, own, other


def test_dept_admin_sees_and_edits_only_their_own(dept_admin_setup, dbsession, org):
    app, own, other = dept_admin_setup
    page = app.get("/departments")
    assert [td.text for td in page.html.select("tbody td:first-child")] == ["Physiotherapy"]
    assert "Dentistry" not in page.text
    assert 'href="/departments/new"' not in page.text
    assert not page.html.find("form", action=f"/departments/{own.id}/delete")

    form = form_at(app.get(f"/departments/{own.id}"))
    form["name"] = "Physio"
    form.submit(status=303)
    assert names(dbsession, org) == ["Dentistry", "Physio"]

    app.get(f"/departments/{other.id}", status=404)
    app.post(f"/departments/{other.id}", {"name": "Hacked", "csrf_token": token(app)}, status=404)
    assert names(dbsession, org) == ["Dentistry", "Physio"]


def test_dept_admin_cannot_create_or_delete(dept_admin_setup, dbsession, org):
    app, own, other = dept_admin_setup
    csrf = token(app)
    app.get("/departments/new", status=403)
    app.post("/departments/new", {"name": "Mine", "csrf_token": csrf}, status=403)
    for dept in (own, other):
        app.post(f"/departments/{dept.id}/delete", {"csrf_token": csrf}, status=403)
    assert names(dbsession, org) == ["Dentistry", "Physiotherapy"]


def test_dept_admin_without_a_department_sees_none(webtest, login, make_user, org, make_department):
    dept = make_department(org, "Physiotherapy")
    app = webtest("acme")
    login(app, make_user(org, role=Role.dept_admin))
    assert "There are no departments yet." in app.get("/departments").text
    app.get(f"/departments/{dept.id}", status=404)


def test_practitioners_cannot_manage_departments(
    webtest, login, make_user, org, make_department, dbsession
):
    dept = make_department(org, "Physiotherapy")
    app = webtest("acme")
    login(app, make_user(org, department_id=dept.id))
    csrf = token(app)
    for path in ("/departments", "/departments/new", f"/departments/{dept.id}"):
        app.get(path, status=403)
    app.post(f"/departments/{dept.id}", {"name": "X", "csrf_token": csrf}, status=403)
    app.post(f"/departments/{dept.id}/delete", {"csrf_token": csrf}, status=403)
    assert names(dbsession, org) == ["Physiotherapy"]


# -- other organisations and odd ids ---------------------------------------


def test_another_organisations_departments_are_404_everywhere(
    admin_app, dbsession, org, make_organisation, make_department
):
    theirs = make_department(make_organisation("other"), "Theirs")
    csrf = token(admin_app)
    admin_app.get(f"/departments/{theirs.id}", status=404)
    admin_app.post(f"/departments/{theirs.id}", {"name": "Hacked", "csrf_token": csrf}, status=404)
    admin_app.get(f"/departments/{theirs.id}/delete", status=404)
    admin_app.post(f"/departments/{theirs.id}/delete", {"csrf_token": csrf}, status=404)
    assert "Theirs" not in admin_app.get("/departments").text
    dbsession.expire_all()
    assert dbsession.get(Department, theirs.id).name == "Theirs"


@pytest.mark.parametrize(
    "dept_id", ["abc", "1.5", "-1", "0", "%201", "99999999999999999999", "1e3", "%D9%A3"]
)
def test_odd_department_ids_are_404(admin_app, make_department, org, dept_id):
    make_department(org, "Physiotherapy")
    csrf = token(admin_app)
    admin_app.get(f"/departments/{dept_id}", status=404)
    admin_app.post(f"/departments/{dept_id}", {"name": "X", "csrf_token": csrf}, status=404)
    admin_app.get(f"/departments/{dept_id}/delete", status=404)
    admin_app.post(f"/departments/{dept_id}/delete", {"csrf_token": csrf}, status=404)


def test_departments_pages_do_not_exist_on_the_console(webtest):
    webtest().get("/departments", status=404)


def test_an_arrival_e_mail_address_is_checked_and_saved(admin_app, dbsession, org, make_department):
    dept = make_department(org, "Physio")
    form = form_at(admin_app.get(f"/departments/{dept.id}"))
    form["arrival_email"] = "not an address"
    response = form.submit(status=200)
    assert "Invalid email address." in response.text
    dbsession.refresh(dept)
    assert dept.arrival_email == ""
    form = form_at(response)
    form["arrival_email"] = "  desk@clinic.example  "
    form.submit(status=303)
    dbsession.refresh(dept)
    assert dept.arrival_email == "desk@clinic.example"
