"""Plugin slots on the appointment page, the client page, the booking and
walk-in widgets and the client portal: the hello test plugin's fragment is
on each page of an organisation that enabled it, with what the slot's
context promises, and absent from the same pages of one that did not."""

import importlib
import inspect
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import pluggy
import pytest
import time_machine

from consultroom import hookspecs
from consultroom.accounts.models import Role
from consultroom.app import CORE_PLUGINS
from consultroom.appointments.models import Appointment, AppointmentParticipant
from consultroom.clients.models import Client, Participant
from consultroom.hookspecs import fills_slots, hookimpl
from consultroom.plugins.registry import PluginRegistry, TenantHooks
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.widgets.models import WalkInWidget

NOW = datetime(2030, 6, 3, 8, 0)  # Monday 08:00 UTC
DAY = date(2030, 6, 4)
SLOT = "20300604T0900"  # a free slot on DAY (UTC)
BUNDLED = {"chat", "payments", "questionnaires", "sso", "translation"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW.isoformat() + "Z", tick=False):
        yield


@dataclass
class Org:
    organisation: object
    subdomain: str
    practitioner: object
    client: Client
    appointment: Appointment
    widget: WalkInWidget


def _org(make_organisation, make_user, dbsession, subdomain):
    org = make_organisation(subdomain, name=f"Org {subdomain}")
    practitioner = make_user(org, role=Role.practitioner, name=f"Dr {subdomain}")
    dbsession.add_all(
        [
            AvailabilityBlock(
                organisation_id=org.id,
                practitioner_id=practitioner.id,
                on_date=DAY,
                start_time=time(11),
                end_time=time(12),
                slot_minutes=20,
            ),
            AvailabilityBlock(
                organisation_id=org.id,
                practitioner_id=practitioner.id,
                weekday=0,
                start_time=time(0),
                end_time=time(23, 59),
            ),
            # The widget offers only whoever has switched walk-ins on.
            WalkInSwitch(user_id=practitioner.id, organisation_id=org.id, available=True),
        ]
    )
    client = Client(organisation_id=org.id, initials="A.", last_name=f"Client-{subdomain}")
    dbsession.add(client)
    dbsession.flush()
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner=practitioner,
        starts_at=datetime(2030, 6, 5, 9, 0),
    )
    widget = WalkInWidget(organisation_id=org.id, name=f"Walk-in {subdomain}", terms_text="")
    dbsession.add_all([appointment, widget])
    dbsession.flush()
    return Org(org, subdomain, practitioner, client, appointment, widget)


@pytest.fixture
def orgs(make_organisation, make_user, dbsession, enable_plugin):
    on = _org(make_organisation, make_user, dbsession, "on")
    off = _org(make_organisation, make_user, dbsession, "off")
    enable_plugin(on.organisation, "hello")
    return on, off


def _staff_app(webtest, login, org):
    app = webtest(org.subdomain)
    login(app, org.practitioner)
    return app


def _slot_texts(page, css):
    return [p.get_text() for p in page.html.select(f"p.{css}")]


def test_appointment_page_slot(webtest, login, orgs):
    on, off = orgs
    page = _staff_app(webtest, login, on).get(f"/appointments/{on.appointment.id}")
    assert _slot_texts(page, "hello-appointment") == [f"Hello, appointment {on.appointment.id}!"]
    page = _staff_app(webtest, login, off).get(f"/appointments/{off.appointment.id}")
    assert not page.html.select(".hello-appointment")


def test_client_page_slot(webtest, login, orgs):
    on, off = orgs
    page = _staff_app(webtest, login, on).get(f"/clients/{on.client.id}")
    assert _slot_texts(page, "hello-client") == ["Hello, A. Client-on!"]
    page = _staff_app(webtest, login, off).get(f"/clients/{off.client.id}")
    assert not page.html.select(".hello-client")


def test_waiting_page_slots_the_clients_and_an_extra_participants(webtest, orgs, dbsession):
    """The client's slot is not on a participant's page: what plugins show
    there (the client's check page, questionnaires, messages) carries the
    client's token, which a participant must not learn."""
    on, off = orgs
    interpreter = Participant(organisation_id=on.organisation.id, initials="", last_name="Tolk")
    dbsession.add(interpreter)
    dbsession.flush()
    place = AppointmentParticipant(appointment_id=on.appointment.id, participant_id=interpreter.id)
    dbsession.add(place)
    dbsession.flush()
    app = webtest(on.subdomain)
    with time_machine.travel("2030-06-05T08:58:00Z", tick=False):
        client = app.get(f"/c/{on.appointment.token}")
        participant = app.get(f"/p/{place.token}")
        other = webtest(off.subdomain).get(f"/c/{off.appointment.token}")
    assert _slot_texts(client, "hello-waiting-room") == [f"Hello, waiting {on.appointment.id}!"]
    assert not client.html.select(".hello-participant-waiting-room")
    assert _slot_texts(participant, "hello-participant-waiting-room") == [
        f"Hello, Tolk waiting {on.appointment.id}!"
    ]
    assert not participant.html.select(".hello-waiting-room")
    assert on.appointment.token not in participant.text
    assert not other.html.select(".hello-waiting-room")


def test_the_other_organisations_pages_stay_refused(webtest, login, orgs):
    on, off = orgs
    app = _staff_app(webtest, login, on)
    app.get(f"/appointments/{off.appointment.id}", status=404)
    app.get(f"/clients/{off.client.id}", status=404)
    app.get(f"/walk-in/{off.widget.public_id}", status=404)
    app.get(f"/portal/{off.client.portal_token}", status=404)


def _booking_pages(app, org):
    """The four pages of a booking, the last one by booking a slot."""
    choose = app.get("/book")
    slots = app.get(f"/book/practitioner/{org.practitioner.id}")
    details = app.get(f"/book/practitioner/{org.practitioner.id}/details?start={SLOT}")
    form = details.forms[0]
    for key, value in {
        "initials": "B.",
        "last_name": "Booker",
        "date_of_birth": "1980-02-03",
        "email": "b@example.org",
        "phone": "0612345678",
        "language": "en",
        "terms": True,
    }.items():
        form[key] = value
    done = form.submit()
    assert "Your appointment is booked" in done.text
    return choose, slots, details, done


def test_booking_widget_slot_on_every_page(webtest, orgs, smtp):
    on, off = orgs
    pages = _booking_pages(webtest("on"), on)
    assert [_slot_texts(p, "hello-booking-widget") for p in pages] == [
        ["Hello, choose!"],
        ["Hello, slots Dr on!"],
        ["Hello, details Dr on!"],
        ["Hello, done Dr on!"],
    ]
    for page in _booking_pages(webtest("off"), off):
        assert not page.html.select(".hello-booking-widget")


def test_walk_in_widget_slot(webtest, orgs):
    on, off = orgs
    listing = webtest("on").get(f"/walk-in/{on.widget.public_id}")
    assert _slot_texts(listing, "hello-walk-in-widget") == ["Hello, list Walk-in on!"]
    intake = listing.click("Dr on")
    assert _slot_texts(intake, "hello-walk-in-widget") == ["Hello, intake Walk-in on Dr on!"]
    listing = webtest("off").get(f"/walk-in/{off.widget.public_id}")
    assert not listing.html.select(".hello-walk-in-widget")
    assert not listing.click("Dr off").html.select(".hello-walk-in-widget")


def test_client_portal_slot(webtest, orgs, open_portal):
    on, off = orgs
    browser = webtest("on")
    open_portal(browser, on.client)
    page = browser.get(f"/portal/{on.client.portal_token}")
    assert _slot_texts(page, "hello-client-portal") == ["Hello, A. Client-on (1)!"]
    browser = webtest("off")
    open_portal(browser, off.client)
    page = browser.get(f"/portal/{off.client.portal_token}")
    assert "2030" in page.text  # the appointment is listed ...
    assert not page.html.select(".hello-client-portal")  # ... without the plugin's part


def test_slot_output_is_escaped_where_it_shows_user_data(webtest, orgs, dbsession):
    on, _off = orgs
    on.client.last_name = "<b>Bold</b>"
    dbsession.flush()
    page = webtest("on").get(f"/portal/{on.client.portal_token}")
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page.text and "<b>Bold" not in page.text


class _Filler:
    """A plugin whose slot implementation answers with its own name."""

    def __init__(self, name, *slots):
        self.name = name

        def consultroom_template_slot(slot):
            return f"{self.name}:{slot}"

        fill = hookimpl(consultroom_template_slot)
        self.consultroom_template_slot = fills_slots(*slots)(fill) if slots else fill


def _tenant_hooks(*plugins, left_out=()):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return TenantHooks(pm, left_out)


def _filled(hooks, slot):
    filler = hooks.slot_filler(slot)
    return None if filler is None else list(reversed(filler(request=None, slot=slot, context={})))


def test_a_declared_implementation_is_called_for_its_slots_only():
    login, profile, every = (
        _Filler("sso", "login"),
        _Filler("2fa", "profile", "login"),
        _Filler("x"),
    )
    hooks = _tenant_hooks(login, profile, every)
    assert _filled(hooks, "login") == ["sso:login", "2fa:login", "x:login"]
    assert _filled(hooks, "profile") == ["2fa:profile", "x:profile"]
    assert _filled(hooks, "footer") == ["x:footer"]


def test_no_filler_where_no_enabled_implementation_declared_the_slot():
    sso, chat = _Filler("sso", "login"), _Filler("chat", "top_bar")
    hooks = _tenant_hooks(sso, chat, left_out=[chat])
    assert _filled(hooks, "login") == ["sso:login"]
    assert hooks.slot_filler("top_bar") is None  # only a left-out plugin fills it
    assert hooks.slot_filler("footer") is None


def test_fills_slots_needs_names():
    for names in [(), ("",), (None,)]:
        with pytest.raises(TypeError, match="names of the slots"):
            fills_slots(*names)


def test_the_core_and_bundled_plugins_declare_every_slot_they_fill():
    """A declaration that left out a slot its implementation fills would
    hide that slot's HTML: each slot the code compares ``slot`` with is
    declared."""
    registry = PluginRegistry.discover(only=BUNDLED)
    for name in CORE_PLUGINS:
        registry.register_core(importlib.import_module(name))
    implementations = registry.pm.hook.consultroom_template_slot.get_hookimpls()
    assert len(implementations) == 12  # seven of the core's, five bundled plugins'
    for impl in implementations:
        source = inspect.getsource(impl.function)
        compared = set(re.findall(r'slot (?:==|!=) "(\w+)"', source))
        assert compared, impl.plugin_name
        assert compared <= getattr(impl.function, hookspecs.SLOTS), impl.plugin_name
