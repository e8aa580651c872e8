"""The usage report (consultroom.reports): the worker's nightly job computes
the last 40 days from a seeded month of appointments, consultation rooms
and logins, and the figures match direct SQL counts; the page shows them
with a server-drawn graph, per department for department admins; the CSV
export holds the same rows; other organisations' data never counts."""

import csv
import io
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text

from consultroom.accounts.models import Role
from consultroom.appointments.models import Appointment, Kind, Status
from consultroom.audit import record
from consultroom.jobs import run_due
from consultroom.reports.models import UsageDay
from consultroom.room.models import ConnectionProblem, Room
from consultroom.tenancy.models import Department, Organisation

from clientmail_support import org_request

# Local noon in Amsterdam on 1 March 2030 (11:00 UTC); the report is run on
# 2 April, so its 40 days are 21 February to 1 April (local).
MONTH_START = datetime(2030, 3, 1, 11, 0)
NOW = datetime(2030, 4, 2, 6, 0)
FIRST_DAY, LAST_DAY = datetime(2030, 2, 20, 23, 0), datetime(2030, 4, 1, 22, 0)  # UTC bounds


@pytest.fixture
def clinic(make_organisation, make_user, dbsession):
    org = make_organisation("clinic", name="Clinic", timezone="Europe/Amsterdam")
    gp, physio = (
        Department(organisation_id=org.id, name="GP"),
        Department(organisation_id=org.id, name="Physio"),
    )
    dbsession.add_all([gp, physio])
    dbsession.flush()
    staff = {
        "bakker": make_user(org, name="Dr. Bakker", department_id=gp.id),
        "smit": make_user(org, name="Dr. Smit", department_id=physio.id),
        "gp_admin": make_user(org, role=Role.dept_admin, name="GP Admin", department_id=gp.id),
        "admin": make_user(org, role=Role.org_admin, name="Org Admin"),
    }
    return {"org": org, "gp": gp, "physio": physio, **staff}


def _seed_month(dbsession, org, departments, practitioners):
    """Thirty days of appointments: per day, for each practitioner, some
    held (a room that lasted 10 + n minutes), some missed, one cancelled
    every third day; plus a department appointment a day without anyone."""
    for day in range(30):
        start = MONTH_START + timedelta(days=day)
        for p_index, practitioner in enumerate(practitioners):
            for n in range((day + p_index) % 4 + 1):
                appointment = Appointment(
                    organisation_id=org.id,
                    practitioner_id=practitioner.id,
                    department_id=practitioner.department_id,
                    starts_at=start + timedelta(minutes=30 * n),
                    kind=Kind.appointment,
                    status=Status.cancelled if (day % 3 == 0 and n == 0) else Status.scheduled,
                )
                dbsession.add(appointment)
                dbsession.flush()
                if appointment.status is Status.scheduled and (day + n) % 3 != 1:
                    dbsession.add(
                        Room(
                            organisation_id=org.id,
                            appointment_id=appointment.id,
                            created_by_id=practitioner.id,
                            started_at=appointment.starts_at,
                            ended_at=appointment.starts_at + timedelta(minutes=10 + n),
                        )
                    )
        dbsession.add(
            Appointment(
                organisation_id=org.id,
                department_id=departments[day % 2].id,
                starts_at=start + timedelta(hours=3),
                kind=Kind.appointment,
            )
        )
        if day % 5 == 0:  # a failed network test of a practitioner's
            dbsession.add(
                ConnectionProblem(
                    organisation_id=org.id,
                    at=start,
                    kind="network_test",
                    role="staff",
                    user_id=practitioners[0].id,
                )
            )
    dbsession.flush()


def _log_in_times(app, subdomain, user, times):
    for at in times:
        with time_machine.travel(at, tick=False), org_request(app, subdomain) as request:
            record(request, "login.success", "user", user.id, actor=user)


@pytest.fixture
def seeded(app, clinic, dbsession, make_organisation, make_user):
    org = clinic["org"]
    _seed_month(
        dbsession, org, [clinic["gp"], clinic["physio"]], [clinic["bakker"], clinic["smit"]]
    )
    _log_in_times(
        app, "clinic", clinic["bakker"], [MONTH_START + timedelta(days=d) for d in (0, 1, 5)]
    )
    _log_in_times(app, "clinic", clinic["smit"], [MONTH_START + timedelta(days=2)])
    # Another organisation, as busy: none of it may count.
    other = make_organisation("other", timezone="Europe/Amsterdam")
    elsewhere = make_user(other, name="Dr. Elsewhere")
    _seed_month(dbsession, other, [Department(organisation_id=other.id, name="X")] * 2, [elsewhere])
    _log_in_times(app, "other", elsewhere, [MONTH_START])
    with time_machine.travel(NOW, tick=False):
        assert run_due(app.registry)["usage"] > 0
    return clinic


def _sql(dbsession, query, **params):
    return dbsession.execute(text(query), params).scalar()


def _expected(dbsession, org_id, department_id=None):
    """The report's figures, counted in SQL straight from the tables."""
    dep = "AND a.department_id = :dep" if department_id else ""
    window = "a.organisation_id = :org AND a.starts_at >= :first AND a.starts_at < :last"
    params = {"org": org_id, "dep": department_id, "first": FIRST_DAY, "last": LAST_DAY}
    booked = _sql(
        dbsession,
        f"SELECT count(*) FROM appointment a WHERE {window} AND a.status = 'scheduled' {dep}",
        **params,
    )
    held = _sql(
        dbsession,
        f"SELECT count(DISTINCT a.id) FROM appointment a JOIN room r ON r.appointment_id = a.id"
        f" WHERE {window} AND a.status = 'scheduled' {dep}",
        **params,
    )
    cancelled = _sql(
        dbsession,
        f"SELECT count(*) FROM appointment a WHERE {window} AND a.status = 'cancelled' {dep}",
        **params,
    )
    rooms = (
        select(Room.started_at, Room.ended_at)
        .join(Appointment, Appointment.id == Room.appointment_id)
        .where(
            Appointment.organisation_id == org_id,
            Room.started_at >= FIRST_DAY,
            Room.started_at < LAST_DAY,
            Room.ended_at.is_not(None),
        )
    )
    if department_id:
        rooms = rooms.where(Appointment.department_id == department_id)
    seconds = sum((ended - started).total_seconds() for started, ended in dbsession.execute(rooms))
    return {
        "booked": booked,
        "held": held,
        "no_shows": booked - held,
        "cancelled": cancelled,
        "consultation_seconds": int(seconds),
    }


def _totals(dbsession, org_id, department_id=None):
    query = select(
        *(
            func.coalesce(func.sum(getattr(UsageDay, name)), 0)
            for name in (
                "booked",
                "held",
                "no_shows",
                "cancelled",
                "consultation_seconds",
                "logins",
            )
        )
    ).where(UsageDay.organisation_id == org_id)
    if department_id:
        query = query.where(UsageDay.department_id == department_id)
    booked, held, no_shows, cancelled, seconds, logins = dbsession.execute(query).one()
    return {
        "booked": booked,
        "held": held,
        "no_shows": no_shows,
        "cancelled": cancelled,
        "consultation_seconds": seconds,
    }, logins


def test_the_nightly_figures_match_a_direct_count(seeded, dbsession):
    org = seeded["org"]
    figures, logins = _totals(dbsession, org.id)
    expected = _expected(dbsession, org.id)
    assert figures == expected
    assert expected["booked"] > 100 and expected["no_shows"] > 20 and expected["cancelled"] > 5
    assert logins == 4
    problems = dbsession.scalar(
        select(func.count(ConnectionProblem.id)).where(
            ConnectionProblem.organisation_id == org.id,
            ConnectionProblem.at >= FIRST_DAY,
            ConnectionProblem.at < LAST_DAY,
        )
    )
    assert problems == 6
    assert (
        dbsession.scalar(
            select(func.sum(UsageDay.connection_problems)).where(UsageDay.organisation_id == org.id)
        )
        == problems
    )
    for department in (seeded["gp"], seeded["physio"]):
        assert _totals(dbsession, org.id, department.id)[0] == _expected(
            dbsession, org.id, department.id
        )


def test_the_job_runs_once_a_night_and_replaces_its_window(seeded, app, dbsession):
    org = seeded["org"]
    before = dbsession.scalar(
        select(func.count()).select_from(UsageDay).where(UsageDay.organisation_id == org.id)
    )
    with time_machine.travel(NOW + timedelta(hours=12), tick=False):
        assert "usage" not in run_due(app.registry)  # the same UTC day
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert run_due(app.registry)["usage"] > 0
    after = dbsession.scalar(
        select(func.count()).select_from(UsageDay).where(UsageDay.organisation_id == org.id)
    )
    assert 0 < after <= before + 4  # one day more, one day less: no rows twice


def _page(webtest, login, user, query=""):
    browser = webtest("clinic")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        login(browser, user)
        return browser, browser.get(f"/reports/usage{query}")


def _figure(page, name):
    return page.html.select_one(f'[data-figure="{name}"]').text.split()[0]


def test_the_report_page_shows_the_figures_and_the_graph(seeded, webtest, login, dbsession):
    _browser, page = _page(webtest, login, seeded["admin"])
    expected = _expected(dbsession, seeded["org"].id)
    assert _figure(page, "booked") == str(expected["booked"])
    assert _figure(page, "no_shows") == str(expected["no_shows"])
    assert _figure(page, "cancelled") == str(expected["cancelled"])
    assert _figure(page, "logins") == "4"
    assert _figure(page, "connection_problems") == "6"
    svg = page.html.select_one("figure.graph svg")
    assert svg["role"] == "img" and svg.select("rect.held") and svg.select("rect.no-show")
    rows = page.html.select("details table tbody tr")
    assert len(rows) == 40
    names = [th.text for th in page.html.select(".staff-activity tbody th")]
    assert names == ["Dr. Bakker", "Dr. Smit"]


def test_a_department_admin_reads_their_department_only(seeded, webtest, login, dbsession):
    browser, page = _page(webtest, login, seeded["gp_admin"])
    gp = seeded["gp"]
    expected = _expected(dbsession, seeded["org"].id, gp.id)
    assert _figure(page, "booked") == str(expected["booked"])
    assert [th.text for th in page.html.select(".staff-activity tbody th")] == ["Dr. Bakker"]
    assert not page.html.select("select#department")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        browser.get(f"/reports/usage?department={seeded['physio'].id}", status=404)
        browser.get(f"/reports/usage.csv?department={seeded['physio'].id}", status=404)


def test_an_organisation_admin_chooses_a_department(seeded, webtest, login, dbsession):
    physio = seeded["physio"]
    browser, page = _page(webtest, login, seeded["admin"], f"?department={physio.id}")
    expected = _expected(dbsession, seeded["org"].id, physio.id)
    assert _figure(page, "booked") == str(expected["booked"])
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        for wrong in ["abc", "999999", "%00"]:
            browser.get(f"/reports/usage?department={wrong}", status=404)


def test_the_csv_export_holds_the_same_rows(seeded, webtest, login, dbsession):
    browser, _page_ = _page(webtest, login, seeded["admin"])
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        response = browser.get("/reports/usage.csv")
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    expected = _expected(dbsession, seeded["org"].id)
    assert sum(int(r["Booked"]) for r in rows) == expected["booked"]
    assert sum(int(r["No-shows"]) for r in rows) == expected["no_shows"]
    assert {r["Staff member"] for r in rows} >= {"Dr. Bakker", "Dr. Smit"}
    assert "Dr. Elsewhere" not in response.text


def test_practitioners_see_no_report_and_another_organisation_only_its_own(
    seeded, webtest, login, make_user, dbsession
):
    practitioner = webtest("clinic")
    login(practitioner, seeded["bakker"])
    practitioner.get("/reports/usage", status=403)
    practitioner.get("/reports/usage.csv", status=403)

    other = dbsession.scalar(select(Organisation).where(Organisation.subdomain == "other"))
    browser = webtest("other")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        login(browser, make_user(other, role=Role.org_admin))
        page = browser.get("/reports/usage")
        assert _figure(page, "booked") == str(_expected(dbsession, other.id)["booked"])
        assert "Dr. Bakker" not in page.text and "Dr. Elsewhere" in page.text
        browser.get(f"/reports/usage?department={seeded['gp'].id}", status=404)


def test_a_new_organisation_is_told_when_figures_come(clinic, webtest, login):
    _browser, page = _page(webtest, login, clinic["admin"])
    assert "the first ones appear after the next night" in page.text
    assert _figure(page, "booked") == "0"


def test_a_plugin_adds_its_figures_to_the_report_where_enabled(
    clinic, webtest, login, enable_plugin
):
    enable_plugin(clinic["org"], "hello")
    _browser, page = _page(webtest, login, clinic["admin"], f"?department={clinic['gp'].id}")
    [part] = page.html.select(".hello-usage-report")
    assert part.text.endswith("usage 2030-02-21..2030-04-01 GP!")
    enable_plugin(clinic["org"], "hello", enabled=False)
    _browser, page = _page(webtest, login, clinic["admin"])
    assert not page.html.select(".hello-usage-report")
