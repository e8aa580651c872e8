"""Waiting-room texts: the on-time text with its placeholders, and service
messages per organisation or department with an optional expiry."""

from datetime import datetime

import pytest
import time_machine

from consultroom.accounts.models import Role
from consultroom.tenancy.models import Department
from consultroom.waitingroom.messages import current_messages
from consultroom.waitingroom.models import ServiceMessage


@pytest.fixture
def org(make_organisation, dbsession):
    org = make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")
    dbsession.add_all(
        [
            Department(organisation_id=org.id, name="GP"),
            Department(organisation_id=org.id, name="Physio"),
        ]
    )
    dbsession.flush()
    return org


def dept(org, name):
    return next(d for d in org.departments if d.name == name)


@pytest.fixture
def admin_app(webtest, login, make_user, org):
    app = webtest("clinic")
    login(app, make_user(org, role=Role.org_admin))
    return app


def message_form(page):
    return next(f for f in page.forms.values() if "text" in f.fields)


def test_text_with_known_placeholders_is_saved(admin_app, org, dbsession):
    form = admin_app.get("/waiting-room-text").forms[1]
    form["text"] = "Welcome *|client_name|*, *|practitioner_name|* sees you at *|time|*."
    form.submit(status=303)
    dbsession.refresh(org)
    assert org.waiting_room_text.startswith("Welcome *|client_name|*")


@pytest.mark.parametrize(
    "text, named",
    [
        ("Hello *|patient|*", "*|patient|*"),
        ("Hello *|client_name", "*|client_name"),
        ("Hello *||*", "*||*"),
    ],
)
def test_unknown_or_malformed_placeholder_is_refused_by_name(
    admin_app, org, dbsession, text, named
):
    form = admin_app.get("/waiting-room-text").forms[1]
    form["text"] = text
    page = form.submit(status=200)
    assert "placeholder: " + named in page.text
    dbsession.refresh(org)
    assert org.waiting_room_text == ""


def test_only_org_admins_edit_the_text(webtest, login, make_user, org):
    app = webtest("clinic")
    login(app, make_user(org, role=Role.dept_admin, department_id=dept(org, "GP").id))
    app.get("/waiting-room-text", status=403)


def test_service_messages_for_organisation_and_department(admin_app, org, dbsession):
    form = message_form(admin_app.get("/service-messages"))
    form["text"] = "Phones are down"
    form.submit(status=303)
    form = message_form(admin_app.get("/service-messages"))
    form["text"] = "Physio runs late"
    form["department_id"] = str(dept(org, "Physio").id)
    form.submit(status=303)
    gp = [m.text for m in current_messages(dbsession, org, dept(org, "GP").id)]
    physio = [m.text for m in current_messages(dbsession, org, dept(org, "Physio").id)]
    assert gp == ["Phones are down"]
    assert sorted(physio) == ["Phones are down", "Physio runs late"]


def test_expiry_in_local_time_and_messages_disappear_after_it(admin_app, org, dbsession):
    with time_machine.travel(datetime(2026, 6, 1, 10, 0), tick=False):  # 12:00 in Amsterdam
        form = message_form(admin_app.get("/service-messages"))
        form["text"] = "Until one"
        form["expires_at"] = "2026-06-01T13:00"
        form.submit(status=303)
        [message] = dbsession.query(ServiceMessage).all()
        assert message.expires_at == datetime(2026, 6, 1, 11, 0)  # stored in UTC
    with time_machine.travel(datetime(2026, 6, 1, 10, 59, 59), tick=False):
        assert [m.text for m in current_messages(dbsession, org)] == ["Until one"]
    with time_machine.travel(datetime(2026, 6, 1, 11, 0, 0), tick=False):
        assert current_messages(dbsession, org) == []


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"text": ""}, "This field is required."),
        ({"text": "x" * 1001}, "Field cannot be longer than 1000 characters."),
        ({"text": "ok", "expires_at": "yesterday"}, "Not a valid datetime value."),
        ({"text": "ok", "expires_at": "2020-01-01T10:00"}, "Choose a time in the future."),
        ({"text": "ok", "expires_at": "2030-03-31T02:30"}, "This time does not exist here"),
        ({"text": "ok", "department_id": "999999"}, "Not a valid choice."),
    ],
)
def test_bad_service_messages_are_refused(admin_app, dbsession, fields, error):
    form = message_form(admin_app.get("/service-messages"))
    for key, value in fields.items():
        if key == "department_id":
            form[key].force_value(value)  # not among the choices, as a crafted post would be
        else:
            form[key] = value
    page = form.submit(status=200)
    assert error in page.text
    assert dbsession.query(ServiceMessage).count() == 0


def test_department_admin_manages_only_their_department(webtest, login, make_user, org, dbsession):
    gp, physio = dept(org, "GP"), dept(org, "Physio")
    theirs = ServiceMessage(organisation_id=org.id, department_id=gp.id, text="GP")
    other = ServiceMessage(organisation_id=org.id, department_id=physio.id, text="Physio")
    everyone = ServiceMessage(organisation_id=org.id, text="All")
    dbsession.add_all([theirs, other, everyone])
    dbsession.flush()
    app = webtest("clinic")
    login(app, make_user(org, role=Role.dept_admin, department_id=gp.id))
    page = app.get("/service-messages")
    choices = [value for value, _sel, _label in message_form(page)["department_id"].options]
    assert choices == [str(gp.id)]
    csrf = page.forms[0]["csrf_token"].value
    app.post(f"/service-messages/{other.id}/delete", {"csrf_token": csrf}, status=404)
    app.post(f"/service-messages/{everyone.id}/delete", {"csrf_token": csrf}, status=404)
    app.post("/service-messages/delete-all", {"csrf_token": csrf}, status=303)
    assert sorted(m.text for m in dbsession.query(ServiceMessage)) == ["All", "Physio"]


def test_delete_all(admin_app, org, dbsession):
    dbsession.add_all([ServiceMessage(organisation_id=org.id, text=t) for t in "abc"])
    dbsession.flush()
    csrf = admin_app.get("/service-messages").forms[0]["csrf_token"].value
    page = admin_app.post("/service-messages/delete-all", {"csrf_token": csrf}).follow()
    assert "3 message(s) deleted." in page.text
    assert dbsession.query(ServiceMessage).count() == 0


def test_other_organisations_messages_are_404(admin_app, make_organisation, dbsession):
    elsewhere = make_organisation("other")
    theirs = ServiceMessage(organisation_id=elsewhere.id, text="not yours")
    dbsession.add(theirs)
    dbsession.flush()
    csrf = admin_app.get("/service-messages").forms[0]["csrf_token"].value
    admin_app.post(f"/service-messages/{theirs.id}/delete", {"csrf_token": csrf}, status=404)
    assert "not yours" not in admin_app.get("/service-messages").text
