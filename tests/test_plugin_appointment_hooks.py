"""The appointment lifecycle hooks and the client page's doors, seen by the
hello test plugin (a real installed distribution): each hook is called with
the right arguments, at the right moment, in the transaction of the change,
and only for organisations that enabled the plugin. The core's own client
e-mail listens on the same hooks, for every organisation."""

from datetime import datetime, timedelta

import consultroom_hello
import pytest
from sqlalchemy import select

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment, Kind, Origin
from consultroom.appointments.service import (
    cancel_appointment,
    create_appointment,
    update_appointment,
)
from consultroom.clients.models import Client
from consultroom.hookspecs import hookimpl
from consultroom.jobs import anonymise
from consultroom.mail.models import OutboxMessage

from clientmail_support import START, load, org_request
from clients_support import flashes, make_client, post


@pytest.fixture
def two_orgs(make_organisation, make_user, enable_plugin, dbsession):
    """ "on" enabled hello, "off" did not; each has a practitioner and a client."""
    orgs = {}
    for subdomain in ("on", "off"):
        org = make_organisation(subdomain)
        practitioner = make_user(org, role=Role.practitioner, name=f"Dr. {subdomain}")
        client = make_client(dbsession, org, "Jansen", email=f"jansen@{subdomain}.example.org")
        orgs[subdomain] = (org, practitioner, client)
    enable_plugin(orgs["on"][0], "hello")
    consultroom_hello.APPOINTMENT_EVENTS.clear()
    return orgs


def _create(app, subdomain, orgs, **kw):
    _org, practitioner, client = orgs[subdomain]
    with org_request(app, subdomain) as request:
        return create_appointment(
            request,
            client=request.dbsession.get(Client, client.id),
            practitioner=request.dbsession.get(User, practitioner.id),
            starts_at=kw.pop("starts_at", START),
            duration_minutes=20,
            origin=kw.pop("origin", Origin.staff),
            **kw,
        ).id


def _events(subdomain):
    return [e[0:1] + e[2:] for e in consultroom_hello.APPOINTMENT_EVENTS if e[1] == subdomain]


def test_each_lifecycle_hook_gets_the_appointment_and_what_changed(app, two_orgs, smtp):
    appointment_id = _create(app, "on", two_orgs, message="Bring your list")
    quick_id = _create(app, "on", two_orgs, kind=Kind.quick, notify=False)
    with org_request(app, "on") as request:
        update_appointment(
            request,
            load(request, appointment_id),
            starts_at=START + timedelta(hours=1),
            message="Bring your list",  # the same: not a change
        )
    with org_request(app, "on") as request:
        update_appointment(request, load(request, appointment_id), message="New text")
    with org_request(app, "on") as request:
        # Nothing differs: no event.
        update_appointment(request, load(request, appointment_id), message="New text")
    with org_request(app, "on") as request:
        cancel_appointment(request, load(request, appointment_id))
    with org_request(app, "on") as request:
        cancel_appointment(request, load(request, appointment_id))  # already cancelled

    assert _events("on") == [
        ("created", appointment_id, True, "staff"),
        ("created", quick_id, False, "staff"),
        ("changed", appointment_id, {"starts_at": START}),
        ("changed", appointment_id, {"message": "Bring your list"}),
        ("cancelled", appointment_id, "cancelled"),
    ]
    # The core's client e-mail heard the same events: an invitation (none for
    # the quick consultation), a change for the move, none for the message,
    # and one cancellation.
    subjects = [m["Subject"].strip().split(":")[0] for m in smtp.messages]
    assert len(subjects) == 3
    assert subjects[0].startswith("Your video consultation")
    assert subjects[1:] == ["Changed", "Cancelled"]


def test_a_change_of_people_names_those_before_it(app, two_orgs, make_user, dbsession):
    org, first, _client = two_orgs["on"]
    second = make_user(org, role=Role.practitioner, name="Dr. Second")
    appointment_id = _create(app, "on", two_orgs)
    with org_request(app, "on") as request:
        appointment = load(request, appointment_id)
        update_appointment(
            request, appointment, practitioner=request.dbsession.get(type(second), second.id)
        )
        [(hook, _sub, seen_id, changes)] = consultroom_hello.APPOINTMENT_EVENTS[1:]
        assert (hook, seen_id) == ("changed", appointment_id)
        assert list(changes) == ["practitioner"] and changes["practitioner"].id == first.id
        assert appointment.practitioner.id == second.id  # the new value is on the appointment


def test_an_organisation_without_the_plugin_sends_it_no_event(app, two_orgs, smtp):
    appointment_id = _create(app, "off", two_orgs)
    with org_request(app, "off") as request:
        update_appointment(request, load(request, appointment_id), duration_minutes=30)
    with org_request(app, "off") as request:
        cancel_appointment(request, load(request, appointment_id))
    assert consultroom_hello.APPOINTMENT_EVENTS == []
    # The core's own listener runs for every organisation.
    assert [m["To"] for m in smtp.messages] == ["jansen@off.example.org"] * 3


def test_anonymised_appointments_are_announced_per_batch_and_organisation(app, two_orgs, dbsession):
    now = datetime(2031, 6, 1, 12)
    ids = {}
    for subdomain, (org, practitioner, client) in two_orgs.items():
        org.settings = {"anonymise_after_days": 30}
        old = Appointment(
            organisation_id=org.id,
            client_id=client.id,
            practitioner_id=practitioner.id,
            starts_at=now - timedelta(days=40),
        )
        dbsession.add(old)
        dbsession.flush()
        ids[subdomain] = old.id
    assert anonymise.run(app.registry, "on", now) == 1
    assert anonymise.run(app.registry, "off", now) == 1
    assert consultroom_hello.APPOINTMENT_EVENTS == [("anonymised", "on", [ids["on"]])]


def test_a_failing_listener_undoes_the_appointment_and_its_mail(app, two_orgs, smtp, dbsession):
    """The hooks run inside the transaction: a listener that raises aborts
    the creation, the invitation the core's listener queued included."""

    class Failing:
        @hookimpl
        def consultroom_appointment_created(self, request, appointment):
            raise RuntimeError("listener failed")

    pm = app.registry.plugins.pm
    pm.register(Failing(), name="core:test-failing-listener")
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            _create(app, "on", two_orgs)
    finally:
        pm.unregister(name="core:test-failing-listener")
    assert smtp.messages == []
    assert dbsession.scalars(select(Appointment)).all() == []
    assert dbsession.scalars(select(OutboxMessage)).all() == []


# -- the client page


@pytest.fixture
def staff_apps(two_orgs, make_user, webtest, login):
    apps = {}
    for subdomain, (org, _practitioner, _client) in two_orgs.items():
        apps[subdomain] = webtest(subdomain)
        login(apps[subdomain], make_user(org, role=Role.org_admin))
    return apps


def test_the_client_page_shows_the_sections_of_enabled_features(app, two_orgs, staff_apps):
    _create(app, "on", two_orgs, starts_at=START)
    for subdomain, (_org, _practitioner, client) in two_orgs.items():
        page = staff_apps[subdomain].get(f"/clients/{client.id}")
        # The appointments feature's section, for every organisation.
        assert page.html.find("h2", string="Appointments") is not None
        rows = page.html.select("tr.appointment")
        assert len(rows) == (1 if subdomain == "on" else 0)
        hello = page.html.select("p.hello-client")
        if subdomain == "on":
            assert [p.get_text() for p in hello] == ["Hello, Jansen!"]
        else:
            assert hello == []
            assert "No appointments." in page.text


def test_a_plugin_refuses_deleting_a_client_only_where_enabled(two_orgs, staff_apps, dbsession):
    for subdomain, (org, _practitioner, _client) in two_orgs.items():
        kept_id = make_client(dbsession, org, consultroom_hello.UNDELETABLE).id
        page = post(staff_apps[subdomain], f"/clients/{kept_id}/delete", {}, status=303).follow()
        still_there = dbsession.scalar(select(Client.id).where(Client.id == kept_id))
        if subdomain == "on":
            assert flashes(page) == ["Hello keeps Keep."]
            assert still_there == kept_id
        else:
            assert flashes(page) == ["Keep is deleted."]
            assert still_there is None
