"""50 visitors book the same slot at the same instant, on PostgreSQL, with
real commits: exactly one gets it, the other 49 are told it was just taken,
nobody sees a server error, and only one appointment (and one client) exists.

Always PostgreSQL (the server in CONSULTROOM_TEST_PG, default
postgresql+psycopg://root@127.0.0.1:5432/postgres), in a database of its own
created and dropped here. Skipped only outside CI when no server answers.
"""

import os
import secrets
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from webtest import TestApp

from consultroom.accounts.models import Role, User
from consultroom.app import make_config
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, migrate
from consultroom.plugins.registry import PluginRegistry
from consultroom.scheduling.models import AvailabilityBlock
from consultroom.tenancy.models import Organisation
from consultroom.tenancy.timezones import to_utc

VISITORS = 50
SERVER = os.environ.get("CONSULTROOM_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
HOST = "race.consultroom.test"


@pytest.fixture(scope="module")
def pg_url():
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"consultroom_race_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {SERVER} is unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL at {SERVER} is unreachable")
    yield make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def pg_plugins():
    # Its own registry: an app registers the core hooks in the registry it is
    # given, and the shared test app has already used the session's.
    return PluginRegistry.discover()


@pytest.fixture(scope="module")
def pg_engine(pg_url, pg_plugins):
    # One connection per visitor: nobody waits for the pool, so they really
    # reach the database together.
    engine = make_engine(
        {
            "sqlalchemy.url": pg_url,
            "sqlalchemy.pool_size": str(VISITORS + 5),
            "sqlalchemy.max_overflow": "0",
        }
    )
    migrate.upgrade(engine, pg_plugins)
    yield engine
    engine.dispose()


@pytest.fixture
def slot(pg_engine):
    """An organisation with one practitioner and one free slot tomorrow
    afternoon (local), committed; its UTC start in the URL format."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    session = make_session_factory(pg_engine)()
    org = Organisation(subdomain="race", name="Race Care", timezone="Europe/Amsterdam")
    session.add(org)
    session.flush()
    user = User(
        organisation_id=org.id, email="doc@example.org", name="Dr Race", role=Role.practitioner
    )
    session.add(user)
    session.flush()
    session.add(
        AvailabilityBlock(
            organisation_id=org.id,
            practitioner_id=user.id,
            on_date=tomorrow,
            start_time=time(14),
            end_time=time(14, 30),
            slot_minutes=20,
            gap_minutes=10,
        )
    )
    session.commit()
    start = to_utc(datetime.combine(tomorrow, time(14)), org)
    yield user.id, start
    session.close()


@pytest.fixture(scope="module")
def pg_app(pg_url, pg_engine, pg_plugins, app_settings):
    settings = {**app_settings, "sqlalchemy.url": pg_url}
    return make_config(
        settings, plugins=pg_plugins, dbmaker=make_session_factory(pg_engine)
    ).make_wsgi_app()


def _visitor_form(app, practitioner_id, start, n):
    visitor = TestApp(app, extra_environ={"HTTP_HOST": HOST, "REMOTE_ADDR": f"192.0.2.{n}"})
    page = visitor.get(f"/book/practitioner/{practitioner_id}/details?start={start}")
    form = page.forms[0]
    for key, value in {
        "initials": "R.",
        "last_name": f"Visitor {n}",
        "date_of_birth": "1970-01-01",
        "email": f"visitor{n}@example.org",
        "terms": True,
    }.items():
        form[key] = value
    return form


def test_fifty_simultaneous_bookings_of_one_slot(pg_app, pg_engine, slot, smtp):
    practitioner_id, start = slot
    url_start = start.strftime("%Y%m%dT%H%M")
    forms = [_visitor_form(pg_app, practitioner_id, url_start, n) for n in range(VISITORS)]
    barrier = threading.Barrier(VISITORS)
    results = [None] * VISITORS

    def book(n):
        barrier.wait()
        try:
            response = forms[n].submit(expect_errors=True)
            results[n] = (response.status_int, response.text)
        except Exception as exc:  # a crash must fail the test, not hang it
            results[n] = (None, repr(exc))

    threads = [threading.Thread(target=book, args=(n,)) for n in range(VISITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = [status for status, _text in results]
    booked = [
        n
        for n, (status, body) in enumerate(results)
        if status == 200 and "Your appointment is booked" in body
    ]
    taken = [
        n
        for n, (status, body) in enumerate(results)
        if status in (200, 409) and "This time was just taken" in body
    ]
    assert len(booked) == 1, statuses
    assert len(taken) == VISITORS - 1, statuses
    assert 500 not in statuses and None not in statuses

    session = make_session_factory(pg_engine)()
    try:
        rows = session.scalars(
            select(Appointment).where(Appointment.practitioner_id == practitioner_id)
        ).all()
        assert [(a.starts_at, a.client.last_name) for a in rows] == [
            (start, f"Visitor {booked[0]}")
        ]
        organisation_id = rows[0].organisation_id
        assert (
            session.scalar(
                select(func.count())
                .select_from(Client)
                .where(Client.organisation_id == organisation_id)
            )
            == 1
        )  # the losers left nothing
    finally:
        session.close()
    # Only the winner was invited.
    assert [m["To"] for m in smtp.messages] == [f"visitor{booked[0]}@example.org"]
