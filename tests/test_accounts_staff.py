"""Staff management: menus and pages per role, creating and editing staff,
department admins' limits, other organisations, the package limit, and
deactivation."""

import pytest
from sqlalchemy import func, select

from consultroom.accounts.models import Role, User
from consultroom.mail.models import OutboxMessage
from consultroom.tenancy.models import Department


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


@pytest.fixture
def depts(org, dbsession):
    made = {name: Department(organisation_id=org.id, name=name) for name in ("Cardio", "Derma")}
    dbsession.add_all(made.values())
    dbsession.flush()
    return made


@pytest.fixture
def staff(org, depts, make_user):
    """One of each role; the department admin and ``prac`` are in Cardio."""
    cardio, derma = depts["Cardio"], depts["Derma"]
    made = {
        "admin": make_user(org, role=Role.org_admin, name="Olga Admin"),
        "dept_admin": make_user(
            org, role=Role.dept_admin, department_id=cardio.id, name="Dirk Deptadmin"
        ),
        "prac": make_user(org, role=Role.practitioner, department_id=cardio.id, name="Piet Cardio"),
        "other_prac": make_user(
            org, role=Role.practitioner, department_id=derma.id, name="Pam Derma"
        ),
        "loose_prac": make_user(org, role=Role.practitioner, name="Lou Nodept"),
        "other_dept_admin": make_user(
            org, role=Role.dept_admin, department_id=cardio.id, name="Dora Deptadmin"
        ),
    }
    return made


@pytest.fixture
def as_(webtest, login, staff):
    def log_in_as(key):
        app = webtest("acme")
        login(app, staff[key])
        return app

    return log_in_as


def page_form(page):
    """The page's own form (the layout's log-out form comes first)."""
    forms = [f for f in page.forms.values() if f.action != "/logout"]
    assert len(forms) == 1
    return forms[0]


def csrf(app):
    return app.get("/").forms[0]["csrf_token"].value


def options(form, name):
    return [value for value, _selected, _text in form[name].options]


def user_count(dbsession, org):
    return dbsession.scalar(
        select(func.count()).select_from(User).where(User.organisation_id == org.id)
    )


def fresh(dbsession, user):
    dbsession.refresh(user)
    return user


def errors_of(page):
    import re

    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', page.text)


# --- menus and pages per role ----------------------------------------------------

MENU = {
    "My organisation": "/organisation",
    "Advanced settings": "/organisation/advanced",
    "Departments": "/departments",
    "Staff": "/staff",
}


def menu_entries(page):
    nav = page.text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    return {label for label, href in MENU.items() if f'<a href="{href}"' in nav and label in nav}


@pytest.mark.parametrize(
    "who, expected",
    [
        ("admin", set(MENU)),
        ("dept_admin", {"Departments", "Staff"}),
        ("prac", set()),
    ],
)
def test_menu_per_role(as_, who, expected):
    page = as_(who).get("/")
    assert menu_entries(page) == expected
    assert 'href="/profile"' in page.text


PAGES = [
    "/organisation",
    "/organisation/advanced",
    "/departments",
    "/departments/new",
    "/staff",
    "/staff/new",
]
ALLOWED = {
    "admin": set(PAGES),
    "dept_admin": {"/departments", "/staff", "/staff/new"},
    "prac": set(),
}


@pytest.mark.parametrize("who", list(ALLOWED))
@pytest.mark.parametrize("path", PAGES)
def test_pages_per_role(as_, who, path):
    app = as_(who)
    if path in ALLOWED[who]:
        assert app.get(path).status_int == 200
    else:
        page = app.get(path, status=403)
        assert "Your account may not open this page." in page.text


def test_practitioner_cannot_post_to_staff_pages(as_, staff, dbsession, org):
    app = as_("prac")
    token = csrf(app)
    before = user_count(dbsession, org)
    app.post(
        "/staff/new",
        {
            "csrf_token": token,
            "name": "X",
            "email": "x@example.org",
            "role": "org_admin",
            "department_id": "0",
            "language": "en",
        },
        status=403,
    )
    app.get(f"/staff/{staff['other_prac'].id}", status=403)
    app.post(
        f"/staff/{staff['other_prac'].id}",
        {
            "csrf_token": token,
            "name": "Hacked",
            "email": staff["other_prac"].email,
            "role": "practitioner",
            "department_id": "0",
            "language": "en",
        },
        status=403,
    )
    app.post(f"/staff/{staff['other_prac'].id}/invite", {"csrf_token": token}, status=403)
    assert user_count(dbsession, org) == before
    assert fresh(dbsession, staff["other_prac"]).name == "Pam Derma"


def test_anonymous_visitor_is_sent_to_log_in(webtest, org):
    for path in ["/staff", "/staff/new", "/staff/1", "/profile", "/departments"]:
        response = webtest("acme").get(path, status=302)
        assert "/login?next=" in response.location


def test_department_admin_sees_only_their_department(as_, staff):
    page = as_("dept_admin").get("/staff")
    for key in ("dept_admin", "prac", "other_dept_admin"):
        assert staff[key].name in page.text
    for key in ("admin", "other_prac", "loose_prac"):
        assert staff[key].name not in page.text
    # Edit links only for whom they may manage.
    assert f'href="/staff/{staff["prac"].id}"' in page.text
    assert f'href="/staff/{staff["other_dept_admin"].id}"' not in page.text


def test_org_admin_sees_everyone(as_, staff, make_organisation, make_user):
    stranger = make_user(make_organisation("beta"), name="Stranger Beta")
    page = as_("admin").get("/staff")
    for user in staff.values():
        assert user.name in page.text
    assert stranger.name not in page.text
    assert "6 of 10 staff members in your package are in use." in page.text


# --- creating staff ---------------------------------------------------------------


def new_staff(app, **fields):
    form = page_form(app.get("/staff/new"))
    values = {"name": "Nina New", "email": "nina@example.org", **fields}
    for key, value in values.items():
        form[key] = value
    return form.submit()


def test_org_admin_creates_staff_in_any_role_and_department(as_, depts, dbsession, smtp):
    app = as_("admin")
    form = page_form(app.get("/staff/new"))
    assert options(form, "role") == ["org_admin", "dept_admin", "practitioner"]
    assert options(form, "department_id") == ["0", str(depts["Cardio"].id), str(depts["Derma"].id)]
    response = new_staff(
        app,
        role="dept_admin",
        department_id=str(depts["Derma"].id),
        phone="+31 20 123 4567",
        language="nl",
    )
    assert response.status_int == 303
    user = dbsession.scalar(select(User).where(User.email == "nina@example.org"))
    assert (user.role, user.department_id, user.phone, user.language) == (
        Role.dept_admin,
        depts["Derma"].id,
        "+31 20 123 4567",
        "nl",
    )
    assert user.active and user.password_hash is None
    assert [m["To"] for m in smtp.messages] == ["nina@example.org"]
    assert "Invited" in response.follow().text


def test_department_admin_creates_practitioners_in_their_department(as_, depts, dbsession):
    app = as_("dept_admin")
    form = page_form(app.get("/staff/new"))
    assert options(form, "role") == ["practitioner"]
    assert options(form, "department_id") == [str(depts["Cardio"].id)]
    assert new_staff(app).status_int == 303
    user = dbsession.scalar(select(User).where(User.email == "nina@example.org"))
    assert (user.role, user.department_id) == (Role.practitioner, depts["Cardio"].id)


@pytest.mark.parametrize(
    "field, value",
    [
        ("role", "org_admin"),
        ("role", "dept_admin"),
        ("role", "superuser"),
        ("department_id", "derma"),
        ("department_id", "0"),
    ],
)
def test_department_admin_cannot_hire_outside_their_limits(
    as_, depts, dbsession, org, smtp, field, value
):
    app = as_("dept_admin")
    form = page_form(app.get("/staff/new"))
    if value == "derma":
        value = str(depts["Derma"].id)
    form["name"], form["email"] = "Nina New", "nina@example.org"
    form[field].force_value(value)
    page = form.submit(status=200)
    assert "Not a valid choice." in page.text
    assert dbsession.scalar(select(User).where(User.email == "nina@example.org")) is None
    assert smtp.messages == []


def test_org_admin_cannot_create_a_superuser(as_, dbsession):
    app = as_("admin")
    form = page_form(app.get("/staff/new"))
    form["name"], form["email"] = "Nina New", "nina@example.org"
    form["role"].force_value("superuser")
    assert "Not a valid choice." in form.submit(status=200).text
    assert dbsession.scalar(select(User).where(User.email == "nina@example.org")) is None


def test_department_of_another_organisation_is_refused(as_, make_organisation, dbsession):
    other = make_organisation("beta")
    foreign = Department(organisation_id=other.id, name="Foreign")
    dbsession.add(foreign)
    dbsession.flush()
    app = as_("admin")
    form = page_form(app.get("/staff/new"))
    form["name"], form["email"] = "Nina New", "nina@example.org"
    form["department_id"].force_value(str(foreign.id))
    assert "Not a valid choice." in form.submit(status=200).text
    assert dbsession.scalar(select(User).where(User.email == "nina@example.org")) is None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-address"}, "Invalid email address."),
        ({"email": "@example.org"}, "Invalid email address."),
        ({"phone": "call me maybe"}, "Use digits, spaces and + ( ) - only."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_invalid_new_staff_is_refused_clearly(as_, dbsession, org, smtp, fields, message):
    app = as_("admin")
    before = user_count(dbsession, org)
    page = new_staff(app, **fields)
    assert page.status_int == 200
    assert message in errors_of(page)
    assert user_count(dbsession, org) == before
    assert smtp.messages == []


def test_duplicate_email_is_refused(as_, staff, dbsession, org, smtp):
    app = as_("admin")
    before = user_count(dbsession, org)
    page = new_staff(app, email=staff["prac"].email.upper())
    assert page.status_int == 200
    assert "There is already a staff member with this e-mail address." in errors_of(page)
    assert user_count(dbsession, org) == before
    assert smtp.messages == []


def test_same_email_in_another_organisation_is_fine(as_, make_organisation, make_user, dbsession):
    make_user(make_organisation("beta"), email="nina@example.org")
    assert new_staff(as_("admin")).status_int == 303


# --- the package limit ----------------------------------------------------------------

LIMIT = "Your package allows 6 active staff members and all are in use."


def test_creating_one_more_than_the_package_allows(as_, org, staff, dbsession, smtp):
    org.max_users = 6
    dbsession.flush()
    app = as_("admin")
    page = new_staff(app)
    assert page.status_int == 200
    assert LIMIT in page.text
    assert user_count(dbsession, org) == 6
    assert dbsession.scalars(select(OutboxMessage)).all() == []
    assert smtp.messages == []


def test_inactive_staff_do_not_count(as_, org, staff, dbsession):
    org.max_users = 6
    staff["loose_prac"].active = False
    dbsession.flush()
    assert new_staff(as_("admin")).status_int == 303


def test_reactivating_over_the_package_limit_is_refused(as_, org, staff, dbsession):
    org.max_users = 6
    staff["loose_prac"].active = False
    dbsession.flush()
    app = as_("admin")
    assert new_staff(app).status_int == 303  # the freed place is taken
    form = page_form(app.get(f"/staff/{staff['loose_prac'].id}"))
    form["active"] = True
    page = form.submit(status=200)
    assert LIMIT in page.text
    assert not fresh(dbsession, staff["loose_prac"]).active


def test_reactivating_within_the_package_limit(as_, org, staff, dbsession):
    staff["loose_prac"].active = False
    dbsession.flush()
    form = page_form(as_("admin").get(f"/staff/{staff['loose_prac'].id}"))
    form["active"] = True
    assert form.submit().status_int == 303
    assert fresh(dbsession, staff["loose_prac"]).active


# --- editing staff ------------------------------------------------------------------


def test_edit_form_shows_the_member_as_they_are(as_, staff, depts):
    form = page_form(as_("admin").get(f"/staff/{staff['prac'].id}"))
    assert form["name"].value == "Piet Cardio"
    assert form["email"].value == staff["prac"].email
    assert form["role"].value == "practitioner"
    assert form["department_id"].value == str(depts["Cardio"].id)
    assert form["active"].checked


def test_saving_the_edit_form_unchanged_changes_nothing(as_, staff, dbsession, depts):
    for key in ("prac", "dept_admin", "loose_prac"):
        before = staff[key]
        role, department = before.role, before.department_id
        form = page_form(as_("admin").get(f"/staff/{before.id}"))
        assert form.submit().status_int == 303
        after = fresh(dbsession, before)
        assert (after.role, after.department_id, after.active) == (role, department, True)


def test_org_admin_edits_a_member(as_, staff, depts, dbsession):
    app = as_("admin")
    form = page_form(app.get(f"/staff/{staff['prac'].id}"))
    form["name"], form["email"] = "Piet Renamed", "PIET@example.org"
    form["role"] = "dept_admin"
    form["department_id"] = str(depts["Derma"].id)
    form["language"] = "de"
    form["phone"] = "020-1234567"
    response = form.submit(status=303)
    assert "Saved." in response.follow().text
    user = fresh(dbsession, staff["prac"])
    assert (user.name, user.email, user.role, user.department_id, user.language, user.phone) == (
        "Piet Renamed",
        "piet@example.org",
        Role.dept_admin,
        depts["Derma"].id,
        "de",
        "020-1234567",
    )


def test_edit_to_an_email_in_use_is_refused(as_, staff, dbsession):
    form = page_form(as_("admin").get(f"/staff/{staff['prac'].id}"))
    form["email"] = staff["other_prac"].email
    page = form.submit(status=200)
    assert "There is already a staff member with this e-mail address." in errors_of(page)
    assert fresh(dbsession, staff["prac"]).email != staff["other_prac"].email


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "This field is required."),
        ("email", "nope", "Invalid email address."),
        ("phone", "06-abc", "Use digits, spaces and + ( ) - only."),
    ],
)
def test_invalid_edit_is_refused_clearly(as_, staff, dbsession, field, value, message):
    form = page_form(as_("admin").get(f"/staff/{staff['prac'].id}"))
    form[field] = value
    page = form.submit(status=200)
    assert message in errors_of(page)
    user = fresh(dbsession, staff["prac"])
    assert (user.name, user.phone) == ("Piet Cardio", "")


def test_department_admin_edits_own_practitioners_only(as_, staff, dbsession, depts):
    app = as_("dept_admin")
    form = page_form(app.get(f"/staff/{staff['prac'].id}"))
    assert options(form, "role") == ["practitioner"]
    assert options(form, "department_id") == [str(depts["Cardio"].id)]
    form["name"] = "Piet Edited"
    assert form.submit().status_int == 303
    assert fresh(dbsession, staff["prac"]).name == "Piet Edited"
    for key in ("other_prac", "loose_prac", "admin", "other_dept_admin"):
        app.get(f"/staff/{staff[key].id}", status=404)


def test_department_admin_cannot_promote_or_move_their_practitioner(as_, staff, dbsession, depts):
    app = as_("dept_admin")
    for field, value in (("role", "org_admin"), ("department_id", str(depts["Derma"].id))):
        form = page_form(app.get(f"/staff/{staff['prac'].id}"))
        form[field].force_value(value)
        assert "Not a valid choice." in form.submit(status=200).text
    user = fresh(dbsession, staff["prac"])
    assert (user.role, user.department_id) == (Role.practitioner, depts["Cardio"].id)


def test_department_admin_cannot_post_to_others(as_, staff, dbsession):
    app = as_("dept_admin")
    token = csrf(app)
    target = staff["other_prac"]
    app.post(
        f"/staff/{target.id}",
        {
            "csrf_token": token,
            "name": "Hacked",
            "email": target.email,
            "role": "practitioner",
            "language": "en",
            "department_id": str(staff["dept_admin"].department_id),
            "active": "y",
        },
        status=404,
    )
    app.post(f"/staff/{target.id}/invite", {"csrf_token": token}, status=404)
    assert fresh(dbsession, target).name == "Pam Derma"


def test_staff_of_another_organisation_is_not_found(
    as_, make_organisation, make_user, dbsession, smtp
):
    beta = make_organisation("beta")
    foreign = make_user(beta, role=Role.practitioner, name="Beta Person", photo=b"\x89PNG")
    app = as_("admin")
    token = csrf(app)
    app.get(f"/staff/{foreign.id}", status=404)
    app.post(
        f"/staff/{foreign.id}",
        {
            "csrf_token": token,
            "name": "Hacked",
            "email": foreign.email,
            "role": "org_admin",
            "department_id": "0",
            "language": "en",
            "active": "y",
        },
        status=404,
    )
    app.post(f"/staff/{foreign.id}/invite", {"csrf_token": token}, status=404)
    app.get(f"/staff/{foreign.id}/photo", status=404)
    app.get("/staff/999999", status=404)
    app.get("/staff/not-a-number", status=404)
    user = fresh(dbsession, foreign)
    assert (user.name, user.role) == ("Beta Person", Role.practitioner)
    assert smtp.messages == []


def test_cannot_change_own_role(as_, staff, dbsession):
    app = as_("admin")
    form = page_form(app.get(f"/staff/{staff['admin'].id}"))
    form["role"] = "practitioner"
    page = form.submit(status=200)
    assert "You cannot change your own role or deactivate yourself." in errors_of(page)
    assert fresh(dbsession, staff["admin"]).role is Role.org_admin


def test_cannot_deactivate_yourself(as_, staff, dbsession):
    app = as_("admin")
    form = page_form(app.get(f"/staff/{staff['admin'].id}"))
    form["active"] = False
    page = form.submit(status=200)
    assert "You cannot change your own role or deactivate yourself." in errors_of(page)
    assert fresh(dbsession, staff["admin"]).active
    assert app.get("/staff").status_int == 200


def test_can_edit_own_name_on_the_staff_page(as_, staff, dbsession):
    app = as_("admin")
    form = page_form(app.get(f"/staff/{staff['admin'].id}"))
    form["name"] = "Olga Renamed"
    assert form.submit().status_int == 303
    assert fresh(dbsession, staff["admin"]).name == "Olga Renamed"


def test_deactivating_ends_the_members_sessions(as_, staff, dbsession, webtest):
    victim = as_("prac")
    assert victim.get("/").status_int == 200
    admin = as_("admin")
    form = page_form(admin.get(f"/staff/{staff['prac'].id}"))
    form["active"] = False
    assert form.submit().status_int == 303
    assert "Inactive" in admin.get("/staff").text
    response = victim.get("/", status=302)
    assert "/login" in response.location
    # Reactivated, the old session still does not come back.
    form = page_form(admin.get(f"/staff/{staff['prac'].id}"))
    form["active"] = True
    form.submit(status=303)
    assert fresh(dbsession, staff["prac"]).active
    victim.get("/", status=302)


def test_resend_link(as_, staff, smtp):
    app = as_("dept_admin")
    page = app.get("/staff")
    form = [f for f in page.forms.values() if f.action == f"/staff/{staff['prac'].id}/invite"][0]
    response = form.submit(status=303)
    assert f"A new link has been sent to {staff['prac'].email}." in response.follow().text
    assert [m["To"] for m in smtp.messages] == [staff["prac"].email]
    assert "/set-password/" in smtp.messages[0].get_content()


def test_department_admin_without_a_department_sees_no_one(as_, staff, dbsession):
    staff["dept_admin"].department_id = None
    dbsession.flush()
    app = as_("dept_admin")
    page = app.get("/staff")
    for key in ("admin", "loose_prac", "prac", "other_prac"):
        assert staff[key].name not in page.text
        app.get(f"/staff/{staff[key].id}", status=404)
    assert options(page_form(app.get("/staff/new")), "department_id") == []


def test_department_with_staff_cannot_be_deleted(as_, staff, depts, dbsession):
    app = as_("admin")
    page = app.get("/departments")
    delete = {f.action: f for f in page.forms.values()}
    response = delete[f"/departments/{depts['Cardio'].id}/delete"].submit(status=303).follow()
    assert "3 staff member(s) still belong to this department." in response.text
    assert dbsession.get(Department, depts["Cardio"].id) is not None
    staff["other_prac"].department_id = None
    dbsession.flush()
    delete[f"/departments/{depts['Derma'].id}/delete"].submit(status=303)
    assert (
        dbsession.scalar(
            select(func.count()).select_from(Department).where(Department.id == depts["Derma"].id)
        )
        == 0
    )
