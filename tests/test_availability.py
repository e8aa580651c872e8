"""Availability pages: a practitioner manages their own blocks; admins those
of the staff and departments they manage; bad input gets a message per field
and saves nothing."""

from datetime import date, time

import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Department


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def departments(dbsession, org):
    made = [Department(organisation_id=org.id, name=n) for n in ("Physio", "Speech")]
    dbsession.add_all(made)
    dbsession.flush()
    return made


@pytest.fixture
def people(make_user, org, departments):
    physio, speech = departments
    return {
        "admin": make_user(org, role=Role.org_admin, name="Ada Admin"),
        "physio_admin": make_user(
            org, role=Role.dept_admin, department_id=physio.id, name="Dee Physio"
        ),
        "physio": make_user(
            org, role=Role.practitioner, department_id=physio.id, name="Pia Physio"
        ),
        "speech": make_user(
            org, role=Role.practitioner, department_id=speech.id, name="Sam Speech"
        ),
    }


@pytest.fixture
def as_user(webtest, login, people):
    def make(name):
        app = webtest("acme")
        login(app, people[name])
        return app

    return make


def blocks(dbsession, **where):
    dbsession.expire_all()
    return dbsession.scalars(select(AvailabilityBlock).filter_by(**where)).all()


def block_form(page):
    [form] = [f for f in page.forms.values() if "kind" in f.fields]
    return form


def weekly(form, **values):
    fields = {
        "kind": "weekly",
        "weekday": "0",
        "valid_from": "2030-01-01",
        "valid_until": "2030-12-31",
        "on_date": "",
        "start_time": "09:00",
        "end_time": "11:00",
        "slot_minutes": "20",
        "gap_minutes": "10",
        **values,
    }
    for key, value in fields.items():
        form[key] = value
    return form


def test_practitioner_adds_edits_and_deletes_own_weekly_block(as_user, people, dbsession):
    app = as_user("physio")
    me = people["physio"]
    page = app.get("/availability").click("My availability")
    assert "No availability yet." in page.text
    page = page.click("Add availability")
    response = weekly(block_form(page)).submit(status=303)
    page = response.follow()
    assert "The availability is saved." in page.text
    assert "4 × 20 min, 10 min gap" in page.text
    [block] = blocks(dbsession, practitioner_id=me.id)
    assert (
        block.weekday,
        block.start_time,
        block.end_time,
        block.valid_from,
        block.valid_until,
        block.on_date,
    ) == (0, time(9), time(11), date(2030, 1, 1), date(2030, 12, 31), None)
    form = block_form(app.get(f"/availability/blocks/{block.id}"))
    assert form["start_time"].value == "09:00" and form["kind"].value == "weekly"
    form["kind"] = "once"
    form["on_date"] = "2030-05-05"
    form.submit(status=303)
    [block] = blocks(dbsession, practitioner_id=me.id)
    assert (block.on_date, block.weekday, block.valid_from) == (date(2030, 5, 5), None, None)
    page = app.get(f"/availability/staff/{me.id}")
    page.forms[1].submit(status=303)  # forms[0] is the log-out form
    assert blocks(dbsession, practitioner_id=me.id) == []


BAD_BLOCKS = [
    ({"end_time": "09:00"}, "end_time", "The end time must be after the start time."),
    ({"end_time": "08:00"}, "end_time", "The end time must be after the start time."),
    (
        {"end_time": "09:15"},
        "slot_minutes",
        "One consultation does not fit between the start and end time.",
    ),
    (
        {"valid_until": "2029-12-31"},
        "valid_until",
        "The end date must not be before the start date.",
    ),
    ({"kind": "once", "on_date": ""}, "on_date", "Give the date."),
    ({"kind": "once", "on_date": "31-31-2030"}, "on_date", "Not a valid date value."),
    ({"start_time": "25:00"}, "start_time", "Not a valid time value."),
    ({"start_time": ""}, "start_time", "This field is required."),
    ({"slot_minutes": "abc"}, "slot_minutes", "Not a valid integer value."),
    ({"slot_minutes": "2"}, "slot_minutes", "Number must be between 5 and 480."),
    ({"gap_minutes": "-1"}, "gap_minutes", "Number must be between 0 and 480."),
    ({"weekday": "9"}, "weekday", "Not a valid choice."),
    ({"kind": "sometimes"}, "kind", "Not a valid choice."),
]


def test_bad_blocks_are_refused_with_a_message(as_user, people, dbsession):
    app = as_user("physio")  # one login for every case: logging in is slow by design
    url = f"/availability/staff/{people['physio'].id}/new"
    good = dict(weekly(block_form(app.get(url))).submit_fields())
    for values, field, message in BAD_BLOCKS:
        response = app.post(url, {**good, **values}, status=200)
        errors = [e.get_text() for e in response.html.select(f"#{field}-help .error")]
        assert errors == [message], values
    assert blocks(dbsession) == []


def test_a_practitioner_cannot_touch_someone_elses_availability(as_user, people, dbsession, org):
    other = people["speech"]
    block = AvailabilityBlock(
        organisation_id=org.id,
        practitioner_id=other.id,
        weekday=1,
        start_time=time(9),
        end_time=time(10),
    )
    dbsession.add(block)
    dbsession.flush()
    app = as_user("physio")
    app.get(f"/availability/staff/{other.id}", status=404)
    app.get(f"/availability/staff/{other.id}/new", status=404)
    app.get(f"/availability/blocks/{block.id}", status=404)
    token = app.get("/profile").forms[0]["csrf_token"].value
    app.post(f"/availability/blocks/{block.id}/delete", {"csrf_token": token}, status=404)
    app.get(f"/availability/departments/{other.department_id}", status=403)
    assert len(blocks(dbsession)) == 1


def test_department_admin_manages_own_department_only(as_user, people, departments, dbsession, org):
    physio, speech = departments
    app = as_user("physio_admin")
    page = app.get("/availability")
    assert "Pia Physio" in page.text and "Sam Speech" not in page.text
    weekly(page.click("Pia Physio").click("Add availability").forms[1]).submit(status=303)
    assert len(blocks(dbsession, practitioner_id=people["physio"].id)) == 1
    app.get(f"/availability/staff/{people['speech'].id}", status=404)
    app.get(f"/availability/staff/{people['admin'].id}", status=404)
    app.get(f"/availability/departments/{speech.id}", status=404)
    # Department blocks only with strictly segregated departments.
    page = app.get(f"/availability/departments/{physio.id}")
    assert "only used with strictly segregated departments" in page.text
    app.get(f"/availability/departments/{physio.id}/new", status=303)
    org.settings = {"strict_departments": True}
    dbsession.flush()
    form = app.get(f"/availability/departments/{physio.id}").click("Add availability").forms[1]
    weekly(form).submit(status=303)
    assert len(blocks(dbsession, department_id=physio.id)) == 1


def test_organisation_admin_manages_everyone(as_user, people, departments, dbsession):
    app = as_user("admin")
    page = app.get("/availability")
    for name in ("Dee Physio", "Pia Physio", "Sam Speech", "Physio", "Speech"):
        assert name in page.text
    weekly(app.get(f"/availability/staff/{people['speech'].id}/new").forms[1]).submit(status=303)
    [block] = blocks(dbsession, practitioner_id=people["speech"].id)
    form = app.get(f"/availability/blocks/{block.id}").forms[1]
    form["end_time"] = "12:00"
    form.submit(status=303)
    assert blocks(dbsession)[0].end_time == time(12)


def test_another_organisations_block_is_not_found(as_user, make_organisation, make_user, dbsession):
    other = make_organisation("other")
    stranger = make_user(other, role=Role.practitioner)
    block = AvailabilityBlock(
        organisation_id=other.id,
        practitioner_id=stranger.id,
        weekday=1,
        start_time=time(9),
        end_time=time(10),
    )
    dbsession.add(block)
    dbsession.flush()
    app = as_user("admin")
    app.get(f"/availability/blocks/{block.id}", status=404)
    app.get(f"/availability/staff/{stranger.id}", status=404)


def test_a_block_has_a_purpose_shown_and_kept(as_user, people, dbsession):
    app = as_user("physio")
    me = people["physio"]
    form = block_form(app.get(f"/availability/staff/{me.id}/new"))
    assert form["purpose"].value == "booking"  # walk-in time is chosen on purpose
    assert [value for value, _selected, _label in form["purpose"].options] == [
        "both",
        "booking",
        "walk_in",
    ]
    weekly(form, purpose="walk_in").submit(status=303)
    [block] = blocks(dbsession, practitioner_id=me.id)
    assert block.purpose == "walk_in"
    page = app.get(f"/availability/staff/{me.id}")
    assert [td.get_text() for td in page.html.select("td.purpose")] == ["Walk-ins only"]
    form = block_form(app.get(f"/availability/blocks/{block.id}"))
    assert form["purpose"].value == "walk_in"
    form["purpose"] = "both"
    form.submit(status=303)
    assert blocks(dbsession, practitioner_id=me.id)[0].purpose == "both"


@pytest.mark.parametrize("purpose", ["off", "", "x" * 400])
def test_a_bad_purpose_is_refused_with_a_message(as_user, people, dbsession, purpose):
    app = as_user("physio")
    url = f"/availability/staff/{people['physio'].id}/new"
    fields = dict(weekly(block_form(app.get(url))).submit_fields())
    response = app.post(url, {**fields, "purpose": purpose}, status=200)
    assert [e.get_text() for e in response.html.select("#purpose-help .error")] == [
        "Choose what this time is used for."
    ]
    assert blocks(dbsession, practitioner_id=people["physio"].id) == []


def test_a_departments_block_is_for_booking(as_user, people, departments, dbsession, org):
    physio, _speech = departments
    org.settings = {"strict_departments": True}
    dbsession.flush()
    app = as_user("admin")
    url = f"/availability/departments/{physio.id}/new"
    form = block_form(app.get(url))
    assert "purpose" not in form.fields
    fields = dict(weekly(form).submit_fields())
    app.post(url, {**fields, "purpose": "walk_in"}, status=303)  # ignored
    [block] = blocks(dbsession, department_id=physio.id)
    assert block.purpose == "booking"
    assert not app.get(f"/availability/departments/{physio.id}").html.select("td.purpose")
