"""Groups and external participants: the organisation's own, viewed by all
staff; groups managed by department and organisation admins; bad input
refused with a message; another organisation's ids are 404."""

import pytest
from sqlalchemy import func, select

from consultroom.accounts.models import Role
from consultroom.clients.models import Group, Participant

from clients_support import errors, flashes, listed, make_group, make_participant, post


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", language="de")


@pytest.fixture
def staff_app(webtest, login, make_user, dbsession, org):
    def make(role):
        app = webtest("acme")
        login(app, make_user(org, role=role))
        return app

    return make


@pytest.fixture
def admin_app(staff_app):
    return staff_app(Role.dept_admin)


def group_names(dbsession, org):
    dbsession.expire_all()
    return sorted(dbsession.scalars(select(Group.name).where(Group.organisation_id == org.id)))


def participant_count(dbsession, org):
    dbsession.expire_all()
    return dbsession.scalar(
        select(func.count()).select_from(Participant).where(Participant.organisation_id == org.id)
    )


# ---- groups


def test_department_admin_creates_renames_and_deletes_a_group(admin_app, dbsession, org):
    form = admin_app.get("/groups/new").forms[1]
    form["name"] = "  Family  "
    page = form.submit(status=303).follow()
    assert flashes(page) == ["Family is saved."]
    assert listed(page) == ["Family"]
    group = dbsession.scalars(select(Group).where(Group.organisation_id == org.id)).one()
    form = admin_app.get(f"/groups/{group.id}").forms[1]
    form["name"] = "Home care"
    form.submit(status=303)
    assert group_names(dbsession, org) == ["Home care"]
    post(admin_app, f"/groups/{group.id}/delete", {}, status=303)
    assert group_names(dbsession, org) == []


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 201, "Field cannot be longer than 200 characters."),
        ("Fam\x00ily", "Remove the special (control) characters"),
        ("Family", "There is already a group with this name."),
    ],
)
def test_bad_group_names_are_refused(admin_app, dbsession, org, name, message):
    make_group(dbsession, org, "Family")
    page = post(admin_app, "/groups/new", {"name": name}, status=200)
    assert message in errors(page)["name"][0]
    assert group_names(dbsession, org) == ["Family"]


def test_renaming_a_group_to_its_own_name_is_fine(admin_app, dbsession, org):
    group = make_group(dbsession, org, "Family")
    post(admin_app, f"/groups/{group.id}", {"name": "Family"}, status=303)


def test_renaming_a_group_to_another_groups_name_is_refused(admin_app, dbsession, org):
    make_group(dbsession, org, "Family")
    care = make_group(dbsession, org, "Care")
    page = post(admin_app, f"/groups/{care.id}", {"name": "Family"}, status=200)
    assert errors(page) == {"name": ["There is already a group with this name."]}
    assert page.html.find("h1").get_text() == "Care"
    assert group_names(dbsession, org) == ["Care", "Family"]


def test_the_same_name_in_another_organisation_is_fine(
    admin_app, dbsession, org, make_organisation
):
    make_group(dbsession, make_organisation("other"), "Family")
    post(admin_app, "/groups/new", {"name": "Family"}, status=303)
    assert group_names(dbsession, org) == ["Family"]


def test_practitioners_see_groups_but_do_not_manage_them(staff_app, dbsession, org):
    group = make_group(dbsession, org, "Family")
    make_participant(dbsession, org, "Visser", groups=[group], initials="M.")
    app = staff_app(Role.practitioner)
    page = app.get("/groups")
    assert listed(page) == ["Family"] and "M. Visser" in page.text
    assert "/groups/new" not in page.text
    app.get("/groups/new", status=403)
    post(app, "/groups/new", {"name": "Mine"}, status=403)
    post(app, f"/groups/{group.id}", {"name": "Renamed"}, status=403)
    post(app, f"/groups/{group.id}/delete", {}, status=403)
    assert group_names(dbsession, org) == ["Family"]


def test_deleting_a_group_keeps_its_participants(admin_app, dbsession, org):
    family, care = make_group(dbsession, org, "Family"), make_group(dbsession, org, "Care")
    person = make_participant(dbsession, org, "Visser", groups=[family, care])
    post(admin_app, f"/groups/{family.id}/delete", {}, status=303)
    dbsession.expire_all()
    assert [g.name for g in dbsession.get(Participant, person.id).groups] == ["Care"]


# ---- participants


VALID = {
    "initials": "M.",
    "last_name": "Visser",
    "date_of_birth": "01-02-1960",
    "email": "M.Visser@example.org",
    "phone": "020 123 4567",
    "client_number": "",
    "language": "nl",
}


def test_any_staff_member_adds_and_edits_a_participant(staff_app, dbsession, org):
    family, care = make_group(dbsession, org, "Family"), make_group(dbsession, org, "Care")
    app = staff_app(Role.practitioner)
    form = app.get("/participants/new").forms[1]
    assert form["language"].value == "de"
    for name, value in VALID.items():
        form[name] = value
    form["group_ids"] = [str(family.id), str(care.id)]
    page = form.submit(status=303).follow()
    assert flashes(page) == ["M. Visser is saved."]
    assert listed(page) == ["M. Visser"]
    person = dbsession.scalars(select(Participant)).one()
    assert (person.email, person.language, str(person.date_of_birth)) == (
        "m.visser@example.org",
        "nl",
        "1960-02-01",
    )
    assert {g.name for g in person.groups} == {"Family", "Care"}
    form = app.get(f"/participants/{person.id}").forms[1]
    assert form["date_of_birth"].value == "01-02-1960"
    form["group_ids"] = [str(care.id)]
    form["last_name"] = "Visscher"
    form.submit(status=303)
    dbsession.expire_all()
    assert person.last_name == "Visscher"
    assert [g.name for g in person.groups] == ["Care"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"last_name": ""}, "last_name"),
        ({"email": "nope"}, "email"),
        ({"date_of_birth": "32-01-1960"}, "date_of_birth"),
        ({"date_of_birth": "01-01-2999"}, "date_of_birth"),
        ({"phone": "<script>"}, "phone"),
        ({"language": "zz"}, "language"),
        ({"group_ids": "x"}, "group_ids"),
        ({"group_ids": "123456"}, "group_ids"),
    ],
)
def test_bad_participant_input_is_refused(admin_app, dbsession, org, changes, field):
    page = post(admin_app, "/participants/new", {**VALID, **changes}, status=200)
    assert list(errors(page)) == [field]
    assert participant_count(dbsession, org) == 0


def test_participant_search_and_delete(admin_app, dbsession, org):
    make_participant(dbsession, org, "Visser", email="m@visser.nl")
    bakker = make_participant(dbsession, org, "Bakker", email="b@bakker.nl")
    assert listed(admin_app.get("/participants")) == ["Bakker", "Visser"]
    assert listed(admin_app.get("/participants", params={"q": "VISSER.NL"})) == ["Visser"]
    assert listed(admin_app.get("/participants", params={"q": "\x00"})) == ["Bakker", "Visser"]
    admin_app.get(f"/participants/{bakker.id}/delete", status=404)  # POST only
    post(admin_app, f"/participants/{bakker.id}/delete", {}, status=303)
    assert listed(admin_app.get("/participants")) == ["Visser"]


# ---- other organisations


def test_another_organisations_groups_and_participants_are_not_found(
    admin_app, dbsession, org, make_organisation
):
    other = make_organisation("other")
    their_group = make_group(dbsession, other, "Theirs")
    theirs = make_participant(dbsession, other, "Stranger", groups=[their_group])
    for url in (f"/groups/{their_group.id}", f"/participants/{theirs.id}"):
        admin_app.get(url, status=404)
        post(admin_app, url, {**VALID, "name": "Taken"}, status=404)
        post(admin_app, url + "/delete", {}, status=404)
    page = admin_app.get("/groups")
    assert "Theirs" not in page.text and "Stranger" not in page.text
    assert "Stranger" not in admin_app.get("/participants").text
    # Their group cannot be chosen for our participant.
    page = post(admin_app, "/participants/new", {**VALID, "group_ids": their_group.id})
    assert list(errors(page)) == ["group_ids"]
    dbsession.expire_all()
    assert dbsession.get(Group, their_group.id).name == "Theirs"
    assert dbsession.get(Participant, theirs.id).last_name == "Stranger"
