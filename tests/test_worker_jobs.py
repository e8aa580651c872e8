"""The worker-jobs door, tried through the keycard test plugin's job
(removing expired codes) beside the core's own jobs: a job runs once per
period of its interval per organisation, only where its plugin is enabled,
one organisation's failure stops no other, and of two workers running at
the same moment exactly one takes each run.

The two-workers tests need real commits, so they run on a database of their
own: a copy of the migrated SQLite file, or a new database on the
PostgreSQL server of CONSULTROOM_TEST_DB when that names one.
"""

import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from consultroom_keycard import JOBS, KeycardCode
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from consultroom import jobs
from consultroom.accounts.models import User
from consultroom.app import make_config
from consultroom.db import make_engine, make_session_factory, migrate
from consultroom.jobs import in_organisation, jobs_for, run_due
from consultroom.jobs.claims import claim, next_period
from consultroom.jobs.hooks import CORE_JOBS
from consultroom.jobs.models import JobClaim
from consultroom.plugins import set_enabled
from consultroom.plugins.registry import PluginRegistry
from consultroom.reports.hooks import JOBS as REPORT_JOBS
from consultroom.tenancy.models import Organisation
from consultroom.testing import scratch_database

KEYCARD = "keycard.expire_codes"
# Two minutes into a five-minute period of the keycard job.
START = datetime(2031, 5, 6, 9, 2)


@pytest.fixture
def clock():
    with time_machine.travel(START.replace(tzinfo=UTC), tick=False) as traveller:
        yield traveller


def add_code(dbsession, organisation, user, expires_at):
    dbsession.add(
        KeycardCode(
            organisation_id=organisation.id,
            user_id=user.id,
            code_hash=os.urandom(32).hex(),
            expires_at=expires_at,
        )
    )
    dbsession.flush()


def codes_of(dbsession, organisation):
    dbsession.expire_all()
    return dbsession.scalar(
        select(func.count())
        .select_from(KeycardCode)
        .where(KeycardCode.organisation_id == organisation.id)
    )


def test_a_period_starts_at_a_whole_multiple_of_the_interval():
    five = timedelta(minutes=5)
    assert next_period(datetime(2031, 5, 6, 9, 2, 59), five) == datetime(2031, 5, 6, 9, 5)
    assert next_period(datetime(2031, 5, 6, 9, 5), five) == datetime(2031, 5, 6, 9, 10)
    assert next_period(datetime(2031, 5, 6, 9, 2), timedelta(days=1)) == datetime(2031, 5, 7)


def test_a_plugin_job_runs_once_per_interval_and_only_where_enabled(
    app, make_organisation, make_user, enable_plugin, dbsession, clock
):
    on, off = make_organisation("on"), make_organisation("off")
    enable_plugin(on, "keycard")
    for organisation in (on, off):
        user = make_user(organisation)
        add_code(dbsession, organisation, user, START - timedelta(seconds=1))  # expired
        add_code(dbsession, organisation, user, START + timedelta(minutes=10))

    done = run_due(app.registry)
    assert done[KEYCARD] == 1
    assert done["reminders"] == 0 and "reminders" in done  # the core's jobs ran too
    assert (codes_of(dbsession, on), codes_of(dbsession, off)) == (1, 2)

    clock.shift(timedelta(minutes=2, seconds=59))  # 09:04:59, the same period
    add_code(dbsession, on, user_of(dbsession, on), START)
    assert KEYCARD not in run_due(app.registry)
    assert codes_of(dbsession, on) == 2

    clock.shift(timedelta(seconds=1))  # 09:05, the next one
    assert run_due(app.registry)[KEYCARD] == 1
    assert (codes_of(dbsession, on), codes_of(dbsession, off)) == (1, 2)
    claimed = dbsession.get(JobClaim, (KEYCARD, on.id))
    assert claimed.next_run_at == datetime(2031, 5, 6, 9, 10)
    assert dbsession.get(JobClaim, (KEYCARD, off.id)) is None


def user_of(dbsession, organisation):
    return dbsession.scalars(select(User).where(User.organisation_id == organisation.id)).first()


def test_a_disabled_plugins_job_stops(app, make_organisation, enable_plugin, dbsession, clock):
    org = make_organisation("acme")
    enable_plugin(org, "keycard")
    assert KEYCARD in run_due(app.registry)
    enable_plugin(org, "keycard", enabled=False)
    clock.shift(timedelta(minutes=10))
    done = run_due(app.registry)
    assert KEYCARD not in done and "reminders" in done


def test_one_organisations_failure_stops_no_other(
    app, make_organisation, make_user, enable_plugin, dbsession, clock, caplog
):
    # A time zone that no longer exists: the reminders cannot say what day it is there.
    broken = make_organisation("broken", timezone="Nowhere/Atlantis")
    fine = make_organisation("fine")
    for organisation in (broken, fine):
        enable_plugin(organisation, "keycard")
        add_code(dbsession, organisation, make_user(organisation), START - timedelta(hours=1))
    with caplog.at_level(logging.ERROR, logger="consultroom.jobs"):
        done = run_due(app.registry)
    # The jobs that need the day there: the reminders and the usage figures.
    assert sorted(r.getMessage() for r in caplog.records) == [
        "worker job reminders failed for broken",
        "worker job usage failed for broken",
    ]
    # The other organisation's reminders ran, and the broken one's other job.
    assert done["reminders"] == 0 and done[KEYCARD] == 2
    assert codes_of(dbsession, broken) == codes_of(dbsession, fine) == 0
    # A failed run waits for its next period rather than failing every round.
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="consultroom.jobs"):
        run_due(app.registry)
    assert caplog.records == []


def test_a_run_refused_for_a_concurrent_transaction_runs_again(
    app, make_organisation, make_user, dbsession, monkeypatch
):
    waits = []
    monkeypatch.setattr(jobs, "sleep", waits.append)
    # What SQLite says to a transaction that read and then writes while
    # another process commits (an app process marking its sockets).
    locked = OperationalError("UPDATE visit", {}, sqlite3.OperationalError("database is locked"))
    org = make_organisation("acme")
    user = make_user(org, name="Piet")
    requests = []

    def run(request):
        requests.append(request)
        if len(requests) == 1:
            request.dbsession.get(User, user.id).name = "Refused"
            request.dbsession.flush()
            raise locked
        request.dbsession.get(User, user.id)
        return 7

    assert in_organisation(app.registry, "acme", run) == 7
    assert len(requests) == 2 and requests[0] is not requests[1]  # a new request
    assert waits == [jobs.BACKOFF]  # not at once: the other writer is still at it
    dbsession.expire_all()
    assert dbsession.get(User, user.id).name == "Piet"  # the refused run undone

    def refused(request):
        requests.append(request)
        request.dbsession.get(User, user.id)
        raise locked

    requests.clear()
    waits.clear()
    with pytest.raises(OperationalError):
        in_organisation(app.registry, "acme", refused)
    # Then it gives up, until the job's next period.
    assert len(requests) == jobs.ATTEMPTS and waits == [
        jobs.BACKOFF * 2**n for n in range(jobs.ATTEMPTS - 1)
    ]

    def broken(request):
        requests.append(request)
        request.dbsession.get(User, user.id)
        raise ValueError("not the database's")

    requests.clear()
    with pytest.raises(ValueError):
        in_organisation(app.registry, "acme", broken)
    assert len(requests) == 1


def test_an_organisation_has_the_core_jobs_and_its_plugins_jobs(app):
    core = jobs_for(app.registry, frozenset())
    assert set(CORE_JOBS + REPORT_JOBS) == set(core) and len(core) == len(CORE_JOBS + REPORT_JOBS)
    assert jobs_for(app.registry, frozenset({"keycard"})) == core + JOBS


def test_a_job_needs_a_name_and_a_positive_interval():
    from consultroom.hookspecs import WorkerJob

    with pytest.raises(ValueError, match="positive interval"):
        WorkerJob("keycard.never", timedelta(0), lambda request: 0)
    with pytest.raises(ValueError, match="1 to 100 characters"):
        WorkerJob("", timedelta(minutes=1), lambda request: 0)


# --- two workers at once, with real commits ----------------------------------------------


@pytest.fixture
def committed(app_settings, tmp_path, fresh_sqlite):
    """The application on a database of its own, where each transaction commits."""
    server = os.environ.get("CONSULTROOM_TEST_DB", "")
    plugins = PluginRegistry.discover()
    if server in ("", "sqlite"):
        url, drop = fresh_sqlite(tmp_path / "workers.sqlite"), None
        engine = make_engine({"sqlalchemy.url": url})
    else:
        url, drop = scratch_database(server, tmp_path / "unused.sqlite", "consultroom_workers")
        engine = make_engine({"sqlalchemy.url": url})
        migrate.upgrade(engine, plugins)
    config = make_config(
        {**app_settings, "sqlalchemy.url": url},
        plugins=plugins,
        dbmaker=make_session_factory(engine),
    )
    yield config.registry
    engine.dispose()
    if drop is not None:
        drop()


def organisations(registry, names, plugin="keycard"):
    """Committed organisations with ``plugin`` enabled; their ids."""
    with registry["dbmaker"]() as session:
        ids = []
        for name in names:
            organisation = Organisation(subdomain=name, name=name.title())
            session.add(organisation)
            session.flush()
            set_enabled(registry.plugins, session, organisation, plugin, True)
            ids.append(organisation.id)
        session.commit()
    return ids


def at_once(work, workers=2):
    """``work(n)`` in ``workers`` threads that start together; their results."""
    barrier = threading.Barrier(workers)
    results = [None] * workers

    def worker(n):
        try:
            barrier.wait()
            results[n] = work(n)
        except Exception as exc:  # must fail the test, not hang it
            results[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(isinstance(r, Exception) for r in results), results
    return results


def test_of_two_workers_claiming_at_once_exactly_one_takes_each_run(committed):
    ids = organisations(committed, ["one", "two", "three"])
    now = datetime(2031, 5, 6, 9, 2)
    runs = [(job, org_id) for job in CORE_JOBS + JOBS for org_id in ids]

    def take(n):
        return {(job.name, org_id) for job, org_id in runs if claim(committed, job, org_id, now)}

    first, second = at_once(take)
    assert not first & second
    assert first | second == {(job.name, org_id) for job, org_id in runs}
    # The next period, from rows that now exist: an UPDATE each, one winner again.
    later = now + timedelta(minutes=5)
    first, second = at_once(
        lambda n: {(job.name, o) for job, o in runs if claim(committed, job, o, later)}
    )
    assert not first & second and len(first | second) == len(runs)


def test_two_workers_running_a_round_at_once_run_each_job_once(committed):
    [org_id] = organisations(committed, ["only"])
    now = datetime(2031, 5, 6, 9, 2)
    rounds = at_once(lambda n: run_due(committed, now))
    writers = REPORT_JOBS + JOBS
    for job in CORE_JOBS + writers:
        ran_in = [done for done in rounds if job.name in done]
        # The core's other jobs only read here; the usage figures and the
        # keycard's write, and on SQLite may meet the other worker's write
        # lock: then the run fails, logged.
        assert len(ran_in) == 1 or job in writers and not ran_in, (job.name, rounds)
    with committed["dbmaker"]() as session:
        claimed = session.scalars(select(JobClaim).where(JobClaim.organisation_id == org_id))
        assert {c.job: c.next_run_at for c in claimed} == {
            "reminders": datetime(2031, 5, 6, 9, 3),
            "anonymised": datetime(2031, 5, 6, 9, 3),
            "rooms closed": datetime(2031, 5, 6, 9, 3),
            "sockets expired": datetime(2031, 5, 6, 9, 3),
            KEYCARD: datetime(2031, 5, 6, 9, 5),
            "usage": datetime(2031, 5, 7, 0, 0),
        }
