"""Admission steps (``consultroom_admission_steps``), with the consent test
plugin (tests/plugins/consent, a real installed distribution): while the
consent is not given, the client's link shows the step instead of the
waiting room, also after a walk-in; the step's page stores the consent and
sends the client back. An organisation without the plugin has no step and
no consent page, and one organisation's tokens open nothing in another's.
What the websocket, call-in and force start do is in
test_admission_steps_live.py."""

from datetime import timedelta

import pytest
from consultroom_consent import ConsentGiven
from sqlalchemy import select
from walk_in_support import walk_in

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment
from consultroom.db import utcnow

from clients_support import make_client


@pytest.fixture
def orgs(make_organisation, make_user, enable_plugin, dbsession):
    """ "on" enabled the consent plugin, "off" did not; each has a
    practitioner and an appointment whose link is open now."""
    made = {}
    for subdomain in ("on", "off"):
        org = make_organisation(subdomain)
        doctor = make_user(org, role=Role.practitioner, name=f"Dr. {subdomain}")
        client = make_client(dbsession, org, "Jansen", initials="J.")
        appointment = Appointment(
            organisation_id=org.id,
            client=client,
            practitioner=doctor,
            starts_at=utcnow().replace(second=0, microsecond=0),
            duration_minutes=20,
        )
        dbsession.add(appointment)
        dbsession.flush()
        made[subdomain] = (org, doctor, appointment)
    enable_plugin(made["on"][0], "consent")
    return made


def consents(dbsession, appointment):
    dbsession.expire_all()
    return dbsession.scalars(
        select(ConsentGiven).where(ConsentGiven.appointment_id == appointment.id)
    ).all()


def consent_form(page):
    return next(form for form in page.forms.values() if "agree" in form.fields)


def is_waiting_room(page):
    return page.html.find(id="realtime-config") is not None


def test_the_link_shows_the_unfinished_step_instead_of_the_waiting_room(webtest, orgs, dbsession):
    _org, _doctor, appointment = orgs["on"]
    app = webtest("on")
    page = app.get(f"/c/{appointment.token}")
    assert not is_waiting_room(page)
    assert "Before the waiting room" in page.text
    [step] = page.html.select("[data-step]")
    assert (step["data-step"], step["data-done"]) == ("consent.form", "no")
    assert step.a["href"] == f"/consent/{appointment.token}"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    form = consent_form(page.click("Continue: Consent form"))
    response = form.submit(status=400)  # the box is not ticked
    assert "Tick the box to agree" in response.text
    assert consents(dbsession, appointment) == []

    form = consent_form(response)
    form["agree"] = True
    back = form.submit(status=303)
    assert back.location == f"http://on.consultroom.test/c/{appointment.token}"
    [consent] = consents(dbsession, appointment)
    assert consent.client_id == appointment.client_id
    assert is_waiting_room(app.get(f"/c/{appointment.token}"))
    # Done: the step's page sends the client straight on.
    assert app.get(f"/consent/{appointment.token}", status=303).location == back.location
    assert len(consents(dbsession, appointment)) == 1


def test_an_organisation_without_the_plugin_has_no_step(webtest, orgs):
    _org, _doctor, appointment = orgs["off"]
    app = webtest("off")
    assert is_waiting_room(app.get(f"/c/{appointment.token}"))
    app.get(f"/consent/{appointment.token}", status=404)


def test_another_organisations_token_opens_no_step(webtest, orgs, dbsession, enable_plugin):
    enable_plugin(orgs["off"][0], "consent")
    theirs = orgs["off"][2]
    app = webtest("on")
    app.get(f"/consent/{theirs.token}", status=404)
    token = consent_form(app.get(f"/consent/{orgs['on'][2].token}"))["csrf_token"].value
    app.post(f"/consent/{theirs.token}", {"agree": "yes", "csrf_token": token}, status=404)
    app.get(f"/consent/{'x' * 43}", status=404)
    assert consents(dbsession, theirs) == []


def test_a_closed_link_opens_neither_the_steps_nor_the_step(webtest, orgs, dbsession):
    _org, _doctor, appointment = orgs["on"]
    appointment.starts_at = utcnow() + timedelta(days=2)
    dbsession.flush()
    app = webtest("on")
    assert "You are too early" in app.get(f"/c/{appointment.token}").text
    app.get(f"/consent/{appointment.token}", status=404)


def test_a_walk_in_visitor_gives_consent_before_the_waiting_room(
    webtest, orgs, dbsession, make_user
):
    org, _doctor, _appointment = orgs["on"]
    link, walk_in_appointment = walk_in(dbsession, make_user, webtest("on"), org)
    assert not is_waiting_room(link)
    form = consent_form(link.click("Continue: Consent form"))
    form["agree"] = True
    assert is_waiting_room(form.submit(status=303).follow())
    assert [c.client_id for c in consents(dbsession, walk_in_appointment)] == [
        walk_in_appointment.client_id
    ]
