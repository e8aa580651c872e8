"""Two workers send the day's reminders at the same instant, on PostgreSQL
with real commits (the shared test database keeps everything in one
uncommitted transaction): each appointment gets exactly one reminder.

Always PostgreSQL (CONSULTROOM_TEST_PG, default
postgresql+psycopg://root@127.0.0.1:5432/postgres), in a database of its own;
skipped only outside CI when no server answers.
"""

import os
import secrets
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from consultroom.accounts.models import Role, User
from consultroom.app import make_config
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, migrate
from consultroom.jobs import in_organisation, reminders
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Organisation

SERVER = os.environ.get("CONSULTROOM_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
APPOINTMENTS = 10
# 08:00 in Amsterdam (UTC+1), after the reminder hour.
NOW = datetime(2031, 3, 4, 7)


@pytest.fixture(scope="module")
def pg_registry(app_settings):
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"consultroom_jobs_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {SERVER} is unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL at {SERVER} is unreachable")
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    plugins = PluginRegistry.discover()
    engine = make_engine({"sqlalchemy.url": url})
    migrate.upgrade(engine, plugins)
    config = make_config(
        {**app_settings, "sqlalchemy.url": url},
        plugins=plugins,
        dbmaker=make_session_factory(engine),
    )
    yield config.registry
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _committed_appointments(dbmaker):
    with dbmaker() as session:
        org = Organisation(subdomain="twice", name="Twice", timezone="Europe/Amsterdam")
        session.add(org)
        session.flush()
        doctor = User(
            organisation_id=org.id, email="doc@example.org", name="Doc", role=Role.practitioner
        )
        session.add(doctor)
        session.flush()
        for n in range(APPOINTMENTS):
            client = Client(
                organisation_id=org.id, last_name=f"Client {n}", email=f"client{n}@example.org"
            )
            session.add(client)
            session.flush()
            session.add(
                Appointment(
                    organisation_id=org.id,
                    client_id=client.id,
                    practitioner_id=doctor.id,
                    created_at=NOW - timedelta(days=2),
                    starts_at=NOW + timedelta(hours=2, minutes=20 * n),
                )
            )
        session.commit()


def test_two_workers_at_once_send_each_reminder_once(pg_registry, smtp):
    dbmaker = pg_registry["dbmaker"]
    _committed_appointments(dbmaker)
    barrier = threading.Barrier(2)
    results = [None, None]

    def worker(n):
        try:
            # Both find the same work before either claims any of it.
            ids = in_organisation(pg_registry, "twice", lambda request: reminders.due(request, NOW))
            barrier.wait()
            results[n] = sum(
                in_organisation(
                    pg_registry, "twice", lambda request, i=i: reminders.remind(request, i, NOW)
                )
                for i in ids
            )
        except Exception as exc:  # must fail the test, not hang it
            results[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == APPOINTMENTS
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        f"client{n}@example.org" for n in range(APPOINTMENTS)
    )
    with dbmaker() as session:
        assert None not in session.scalars(select(Appointment.reminder_sent_at)).all()
