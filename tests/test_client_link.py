"""The client's link: admitted from link_open_before_minutes before the start
to link_open_after_minutes after the end, to the second; clear pages outside
that window, in the client's language and the organisation's time zone.
Guessing tokens in addresses (/c/, /portal/, /join/) is limited per address."""

from datetime import datetime

import pytest
import time_machine

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Status
from consultroom.clients.models import Client
from consultroom.waitingroom.models import ServiceMessage

START = datetime(2026, 6, 10, 8, 0)  # 10:00 in Amsterdam (summer time)


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def appointment(org, make_user, dbsession):
    doctor = make_user(org, role=Role.practitioner, name="Dr. Jansen")
    client = Client(
        organisation_id=org.id,
        initials="A.",
        last_name="Bakker",
        email="a@example.org",
        language="nl",
    )
    appointment = Appointment(
        organisation_id=org.id,
        client=client,
        practitioner=doctor,
        starts_at=START,
        duration_minutes=20,
    )
    dbsession.add(appointment)
    dbsession.flush()
    return appointment


def visit(webtest, appointment, at, subdomain="clinic", **kw):
    with time_machine.travel(at, tick=False):
        return webtest(subdomain).get(f"/c/{appointment.token}", **kw)


@pytest.mark.parametrize(
    "at, shown",
    [
        (datetime(2026, 6, 10, 6, 59, 59), "Kom terug vanaf 09:00"),  # one second too early
        (datetime(2026, 6, 10, 7, 0, 0), "Wachtkamer"),  # opens at start - 60 min
        (datetime(2026, 6, 10, 9, 20, 0), "Wachtkamer"),  # still open at end + 60 min
        (datetime(2026, 6, 10, 9, 20, 1), "Deze afspraak is voorbij"),
    ],
)
def test_window_boundaries_to_the_second(webtest, appointment, at, shown):
    assert shown in visit(webtest, appointment, at).text


def test_window_follows_the_organisation_settings(webtest, appointment, org, dbsession):
    org.settings = {**org.settings, "link_open_before_minutes": 15, "link_open_after_minutes": 0}
    dbsession.flush()
    assert (
        "Kom terug vanaf 09:45"
        in visit(webtest, appointment, datetime(2026, 6, 10, 7, 44, 59)).text
    )
    assert "Wachtkamer" in visit(webtest, appointment, datetime(2026, 6, 10, 7, 45)).text
    assert "Wachtkamer" in visit(webtest, appointment, datetime(2026, 6, 10, 8, 20)).text
    assert "voorbij" in visit(webtest, appointment, datetime(2026, 6, 10, 8, 20, 1)).text


def test_local_time_is_right_after_a_daylight_saving_change(webtest, appointment, dbsession):
    appointment.starts_at = datetime(2026, 10, 26, 9, 0)  # Monday after the change: 10:00 CET
    dbsession.flush()
    page = visit(webtest, appointment, datetime(2026, 10, 26, 7, 59, 59))
    assert "Kom terug vanaf 09:00" in page.text and "10:00" in page.text


def test_visitor_may_switch_language(webtest, appointment):
    page = visit(webtest, appointment, datetime(2026, 6, 10, 6, 0), params={"_LOCALE_": "en"})
    assert "Come back from 09:00" in page.text


def test_on_time_early_and_late(webtest, appointment):
    assert "u bent vroeg" in visit(webtest, appointment, datetime(2026, 6, 10, 7, 30)).text.lower()
    assert "op tijd" in visit(webtest, appointment, datetime(2026, 6, 10, 8, 4)).text
    assert "begon om" in visit(webtest, appointment, datetime(2026, 6, 10, 8, 6)).text


def test_cancelled_appointment(webtest, appointment, dbsession):
    appointment.status = Status.cancelled
    dbsession.flush()
    page = visit(webtest, appointment, datetime(2026, 6, 10, 8, 0))
    assert "geannuleerd" in page.text


def test_unknown_token_and_other_organisation(webtest, appointment, make_organisation):
    make_organisation("other")
    visit(webtest, appointment, START, subdomain="other", status=404)
    with time_machine.travel(START, tick=False):
        webtest("clinic").get("/c/not-a-real-token", status=404)
        webtest("clinic").get(f"/c/{appointment.id}", status=404)


def test_waiting_room_shows_text_messages_and_disclaimer(webtest, appointment, org, dbsession):
    org.waiting_room_text = "Welkom *|client_name|*, *|practitioner_name|* ziet u om *|time|*."
    org.settings = {**org.settings, "disclaimer": "Geen opnames maken."}
    dbsession.add(ServiceMessage(organisation_id=org.id, text="De telefoon is stuk"))
    dbsession.flush()
    page = visit(webtest, appointment, START)
    assert "Welkom A. Bakker, Dr. Jansen ziet u om 10:00." in page.text
    assert "De telefoon is stuk" in page.text
    assert "Geen opnames maken." in page.text
    assert page.headers["Cache-Control"] == "no-store"


# --- tokens in addresses --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/c/", "/portal/", "/join/"])
def test_guessing_tokens_in_addresses_is_rate_limited(webtest, org, app, monkeypatch, path):
    monkeypatch.setitem(app.registry.settings, "ratelimit.token_address.max", "3")
    guesser = webtest("clinic")
    for n in range(3):
        guesser.get(f"{path}{'x' * 42}{n}", status=404)
    page = guesser.get(f"{path}{'x' * 42}9", status=429)
    assert "Too many failed attempts" in page.text
    webtest("clinic").get(
        f"{path}{'x' * 43}", status=404, extra_environ={"REMOTE_ADDR": "192.0.2.99"}
    )  # another address
