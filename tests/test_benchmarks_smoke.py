"""The benchmarks still run: each with tiny numbers, against its own
application and baseline server processes (loopback HTTP and websockets
only, no WebRTC). benchmarks/call_in_to_video.py needs Chromium and a
private network namespace; it is left to its own instructions.

Those that use a database run on the PostgreSQL pass, with ``--db``, as
``benchmarks/run`` runs them; one of them on the SQLite pass too, without
it, as a benchmark starts by default (every benchmark makes its database
with the same helper). Each costs seconds of server starts: run on both
passes, they took a minute and a half of the whole run. And the bare-stack
floors that request_cost.py compares the application with do the work they
stand for."""

import hashlib
import hmac
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from webtest import TestApp

from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditPending
from consultroom.tenancy.models import Organisation

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Benchmarks that use no database (the captions' speech engine) take no
# --db: the same on either pass, the PostgreSQL pass leaves them out.
WITHOUT_DATABASE = {"captions.py"}
# Also run without --db on the SQLite pass (see above).
ON_BOTH_PASSES = {"questionnaire_answers.py"}


# Each benchmark with tiny numbers.
SCRIPTS = [
    ("signalling_latency.py", ["--idle", "5", "--messages", "20", "--rounds", "1"]),
    ("chat_latency.py", ["--idle", "5", "--messages", "20", "--rounds", "1"]),
    (
        "sockets_memory.py",
        ["--sockets", "5", "--hold", "0.5", "--workers", "1", "--rounds", "1"],
    ),
    (
        "join_storm.py",
        [
            "--clients",
            "5",
            "--seconds",
            "0.5",
            "--staff",
            "2",
            "--workers",
            "1",
            "--rounds",
            "1",
        ],
    ),
    (
        "waiting_fanout.py",
        [
            "--waiting",
            "20",
            "--watchers",
            "5",
            "--staff",
            "2",
            "--arrivals",
            "2",
            "--rounds",
            "1",
        ],
    ),
    ("request_cost.py", ["--seconds", "0.2", "--rounds", "1", "--clients", "2"]),
    ("audit_trail.py", ["--entries", "300", "--rounds", "1", "--requests", "1"]),
    ("data_growth.py", ["--clients", "30", "--rounds", "1", "--requests", "1"]),
    ("questionnaire_answers.py", ["--fields", "10", "--sets", "2", "--rounds", "1"]),
    ("captions.py", ["--sentences", "2", "--rounds", "1"]),
]


def _on_its_pass(script, args):
    if script in WITHOUT_DATABASE:
        return pytest.param(script, args, marks=pytest.mark.sqlite_only)
    if script in ON_BOTH_PASSES:
        return pytest.param(script, args)
    return pytest.param(script, args, marks=pytest.mark.postgresql_only)


@pytest.mark.parametrize("script, args", [_on_its_pass(*s) for s in SCRIPTS])
def test_benchmark_runs(script, args):
    db = os.environ.get("CONSULTROOM_TEST_DB", "")
    if db.startswith("postgresql") and script not in WITHOUT_DATABASE:
        args = [*args, "--db", db]
    done = subprocess.run(
        [sys.executable, BENCHMARKS / script, *args], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "ratio" in done.stdout


@pytest.fixture
def floor_app():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import floor_app
    finally:
        sys.path.remove(str(BENCHMARKS))
    return floor_app


@pytest.fixture
def floor(tmp_path, fresh_sqlite, floor_app):
    """floor_app.py (request_cost.py's floors) on a database with
    organisations "a" (its API key in ``floor.key``, two appointments) and
    "b" (one)."""
    url = fresh_sqlite(tmp_path / "floor.sqlite")
    engine = create_engine(url)
    with Session(engine) as db:
        org, other = Organisation(subdomain="a", name="A"), Organisation(subdomain="b", name="B")
        db.add_all([org, other])
        key = org.rotate_api_key()
        db.flush()
        for n, owner in enumerate([org, org, other]):
            db.add(Appointment(organisation_id=owner.id, starts_at=datetime(2027, 1, 1, 9 + n)))
        db.commit()
        org_id = org.id
    app = TestApp(floor_app.make_app({"sqlalchemy.url": url, "session.secret": "s" * 40}))
    yield SimpleNamespace(app=app, key=key, organisation_id=org_id, engine=engine)
    engine.dispose()


@pytest.mark.sqlite_only  # on PostgreSQL request_cost.py's smoke run serves it
def test_the_api_list_floor_lists_and_audits_as_the_api_list_does(floor, floor_app):
    """The floor does the API list's work: the key's organisation's
    appointments, and one audit entry for each read, committed."""
    listed = floor.app.get("/api/v1/appointments", headers={"Authorization": f"Bearer {floor.key}"})
    floor.app.get("/api/v1/appointments", headers={"Authorization": "Bearer wrong"}, status=401)
    assert [a["starts_at"] for a in listed.json["items"]] == [
        "2027-01-01T09:00:00",
        "2027-01-01T10:00:00",
    ]
    with Session(floor.engine) as db:
        entries = db.scalars(select(AuditPending)).all()
    assert [(e.organisation_id, e.action) for e in entries] == [
        (floor.organisation_id + floor_app.FLOOR_CHAIN_OFFSET, "appointment.list")
    ]


@pytest.mark.sqlite_only
def test_the_login_page_floor_signs_a_token_and_sends_the_headers(floor, floor_app):
    """The login page's floor: a new visitor's signed CSRF token in a page
    of the login page's size, the CSP nonce its style uses, the headers."""
    page = floor.app.get("/login", extra_environ={"HTTP_HOST": "a.localhost"})
    floor.app.get("/login", extra_environ={"HTTP_HOST": "nobody.localhost"}, status=404)
    visitor = page.headers["Set-Cookie"].split(";")[0].removeprefix("session=")
    token = hmac.new(
        b"s" * 40, f"csrf:{floor.organisation_id}:{visitor}".encode(), hashlib.sha256
    ).hexdigest()
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])[1]
    assert f'value="{token}"' in page.text
    assert f'nonce="{nonce}"' in page.text
    assert len(page.body) == 1777
    assert page.headers["X-Frame-Options"] == "DENY"
