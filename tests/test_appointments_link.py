"""The client's link /c/<token>: open from link_open_before_minutes before the
start until link_open_after_minutes after the end, to the second; clear
pages outside that window in the organisation's time zone and the client's
language; unknown tokens and other organisations' tokens are not found.

Texts are checked in English (the client's language here) so that these
tests do not depend on the translation catalogues; the language choice is
checked with the page's lang attribute and Babel's date formats."""

from datetime import datetime

import pytest
import time_machine

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Status
from consultroom.clients.models import Client

START = datetime(2026, 6, 10, 8, 0)  # UTC: 10:00 in Amsterdam (summer time), ends 08:20


@pytest.fixture
def org(make_organisation):
    return make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")


@pytest.fixture
def appointment(org, make_user, dbsession):
    doctor = make_user(org, role=Role.practitioner, name="Dr. Jansen", password=None)
    client = Client(organisation_id=org.id, initials="A.", last_name="Bakker", language="en")
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


def state(page):
    """ "too_early", "passed", "cancelled", or the waiting room's arrival class."""
    if "You are too early" in page.text:
        return "too_early"
    if "This appointment has passed" in page.text:
        return "passed"
    if "This appointment has been cancelled" in page.text:
        return "cancelled"
    section = page.html.select_one("section.waiting")
    return next(c for c in section["class"] if c.startswith("waiting-"))[len("waiting-") :]


@pytest.mark.parametrize(
    "at, expected",
    [
        (datetime(2026, 6, 10, 6, 59, 59), "too_early"),  # a second before start - 60 min
        (datetime(2026, 6, 10, 7, 0, 0), "early"),  # start - 60 min: open
        (datetime(2026, 6, 10, 7, 59, 59), "early"),
        (datetime(2026, 6, 10, 8, 0, 0), "on_time"),  # the start
        (datetime(2026, 6, 10, 8, 5, 0), "on_time"),  # up to 5 minutes after the start
        (datetime(2026, 6, 10, 8, 5, 1), "late"),
        (datetime(2026, 6, 10, 9, 20, 0), "late"),  # end + 60 min: still open
        (datetime(2026, 6, 10, 9, 20, 1), "passed"),  # a second later: passed
    ],
)
def test_window_boundaries_to_the_second(webtest, appointment, at, expected):
    assert state(visit(webtest, appointment, at)) == expected


def test_too_early_says_when_to_come_back_in_local_time(webtest, appointment):
    page = visit(webtest, appointment, datetime(2026, 6, 10, 6, 59, 59))
    assert "Come back from 09:00" in page.text  # 07:00 UTC is 09:00 in Amsterdam
    assert "Wednesday, 10 June 2026" in page.text and "10:00" in page.text


def test_the_window_follows_the_organisation_settings(webtest, appointment, org, dbsession):
    org.settings = {**org.settings, "link_open_before_minutes": 15, "link_open_after_minutes": 0}
    dbsession.flush()
    early = visit(webtest, appointment, datetime(2026, 6, 10, 7, 44, 59))
    assert state(early) == "too_early" and "Come back from 09:45" in early.text
    assert state(visit(webtest, appointment, datetime(2026, 6, 10, 7, 45))) == "early"
    assert state(visit(webtest, appointment, datetime(2026, 6, 10, 8, 20))) == "late"
    assert state(visit(webtest, appointment, datetime(2026, 6, 10, 8, 20, 1))) == "passed"


@pytest.mark.parametrize(
    "starts_at, opens_local, start_local",
    [
        # The day after summer time ends (25 October 2026): UTC+1.
        (datetime(2026, 10, 26, 9, 0), "09:00", "10:00"),
        # The day after summer time starts (29 March 2026): UTC+2.
        (datetime(2026, 3, 30, 8, 0), "09:00", "10:00"),
    ],
)
def test_local_times_right_after_a_daylight_saving_change(
    webtest, appointment, dbsession, starts_at, opens_local, start_local
):
    appointment.starts_at = starts_at
    dbsession.flush()
    page = visit(webtest, appointment, starts_at.replace(hour=starts_at.hour - 2))
    assert f"Come back from {opens_local}" in page.text
    assert f"at {start_local}" in page.text


def test_a_start_just_after_midnight_names_the_day_the_link_opens(webtest, appointment, dbsession):
    appointment.starts_at = datetime(2026, 6, 10, 22, 30)  # 00:30 on 11 June, local
    dbsession.flush()
    page = visit(webtest, appointment, datetime(2026, 6, 10, 12, 0))
    assert "Come back on Wednesday, 10 June 2026 from 23:30" in " ".join(page.text.split())


def test_shown_in_the_clients_language_unless_the_visitor_switches(webtest, appointment, dbsession):
    appointment.client.language = "nl"
    dbsession.flush()
    early = datetime(2026, 6, 10, 6, 0)
    page = visit(webtest, appointment, early)
    assert page.html.html["lang"] == "nl"
    assert "woensdag 10 juni 2026" in page.text and "09:00" in page.text  # Dutch formats
    switched = visit(webtest, appointment, early, params={"_LOCALE_": "de"})
    assert switched.html.html["lang"] == "de" and "Mittwoch, 10. Juni 2026" in switched.text
    nonsense = visit(webtest, appointment, early, params={"_LOCALE_": "xx"})
    assert nonsense.status_int == 200


def test_cancelled(webtest, appointment, dbsession):
    appointment.status = Status.cancelled
    dbsession.flush()
    assert state(visit(webtest, appointment, START)) == "cancelled"
    assert state(visit(webtest, appointment, datetime(2026, 6, 1))) == "cancelled"


def test_an_anonymised_appointment_still_answers(webtest, appointment, dbsession):
    appointment.client = None
    dbsession.flush()
    assert state(visit(webtest, appointment, datetime(2026, 7, 1))) == "passed"


def test_unknown_and_other_organisations_tokens_are_not_found(
    webtest, appointment, make_organisation
):
    make_organisation("other")
    visit(webtest, appointment, START, subdomain="other", status=404)
    with time_machine.travel(START, tick=False):
        webtest("clinic").get("/c/not-a-real-token", status=404)
        webtest("clinic").get(f"/c/{appointment.id}", status=404)
        webtest("clinic").get(f"/c/{appointment.token}x", status=404)


def test_the_link_is_kept_out_of_caches_and_referers(webtest, appointment):
    for at in (START, datetime(2026, 6, 1)):
        page = visit(webtest, appointment, at)
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_token_is_unguessable(appointment):
    assert len(appointment.token) >= 22 and str(appointment.id) != appointment.token
