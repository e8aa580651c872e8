"""Browser tests: real headless Chromium (Debian's package, driven by
Playwright) against a real application server, with fake camera and
microphone. Every test under tests/browser is marked ``browser``.

They run only inside a private network namespace that holds nothing but
loopback (WebRTC gathers candidates on every interface), as ``scripts/test``
does: ``unshare -n bash -c 'ip link set lo up; … pytest -m browser tests/browser'``.

Fixtures (names are stable; other test modules rely on them):

``live_server``          session: the application on 127.0.0.1, a gevent
                         WSGIServer with the websocket handler in its own
                         process, on a file SQLite database migrated like
                         production, base domain ``localhost`` (Chromium
                         resolves ``<sub>.localhost`` to loopback).
                         ``live_server.url("clinic", "/login")``,
                         ``.port``, ``.settings``, ``.tmp`` (its folder).
``start_live_server``    session: ``start_live_server(**settings)`` starts one
                         more server process on the same database (extra
                         settings merged in); stopped after the session.
``live_db``              a SQLAlchemy session on the live server's database;
                         commit what the browser must see. Its reads take no
                         lock (they never block the server).
``live_data``            factories that commit: ``organisation(**kw)``
                         (``options={...}`` for advanced settings),
                         ``department(org, name)``, ``user(org, role=..., **kw)``
                         (password ``PASSWORD``), ``client(org, **kw)``,
                         ``appointment(org, practitioner=, department=,
                         client=, starts_at=now, **kw)``.
``browser``              session: the Playwright Chromium Browser.
``new_context``          ``new_context()``: a fresh BrowserContext allowed to use
                         camera and microphone; closed after the test.
``client_context``, ``staff_context``   two such contexts.
``log_in``               ``log_in(page, user)``: logs ``user`` in through the
                         login page of their organisation.
``poll``                 ``poll(page_or_frame, "js expression", timeout=15)``: evaluates it until
                         truthy and returns the value (Playwright's
                         wait_for_function needs eval, which the CSP forbids).
``rtc_stats``            ``rtc_stats(page)``: inbound-rtp/outbound-rtp reports of
                         every open RTCPeerConnection the page made (contexts
                         from ``new_context`` record them).
``wait_for_media``       ``wait_for_media(page, video=1, audio=0)``: waits until
                         the page decodes video from ``video`` peers and plays
                         audio from ``audio`` peers (getStats); the reports.
"""

import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment
from consultroom.browser_testing import (
    CHROMIUM,
    RECORD_CONNECTIONS_JS,
    TEST_CHROMIUM_FLAGS,
    only_loopback,
)
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, migrate, utcnow
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Department, Organisation
from consultroom.testing import (
    CHEAP_PASSWORDS,
    free_port,
    password_hash,
    stop_process,
    wait_for_port,
)

HERE = Path(__file__).resolve().parent
# How long an expect() waits for what it asserts (Playwright's default: 5 s).
# The machines CI runs on differ twofold in speed, and with two workers'
# calls on the two cores a room page took more than 5 s to connect, say
# hello and be admitted (tests/browser/test_group_appointment.py, once).
expect.set_options(timeout=15_000)
PASSWORD = "correct horse battery"
STATS_JS = """async () => {
  const out = [];
  for (const pc of window.__peerConnections || []) {
    if (pc.connectionState === "closed") continue;
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === "inbound-rtp" || r.type === "outbound-rtp") out.push(Object.assign({}, r));
    });
  }
  return out;
}"""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def private_network():
    if not only_loopback():
        pytest.fail(
            "browser tests run real WebRTC and must run in a private network namespace"
            " holding only loopback: unshare -n bash -c 'ip link set lo up; ...'"
            " (scripts/test does this)",
            pytrace=False,
        )


@dataclass
class LiveServer:
    port: int
    settings: dict
    tmp: Path
    process: subprocess.Popen = field(repr=False)
    base_domain: str = "localhost"

    def url(self, subdomain=None, path="/"):
        host = f"{subdomain}.{self.base_domain}" if subdomain else self.base_domain
        return f"http://{host}:{self.port}{path}"

    def stop(self):
        stop_process(self.process)


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    return {
        "sqlalchemy.url": f"sqlite:///{tmp / 'consultroom.sqlite'}",
        "consultroom.base_domain": "localhost",
        "session.secret": secrets.token_urlsafe(48),
        "session.secure": "false",
        **CHEAP_PASSWORDS,
        "mail.transport": "folder",
        "mail.folder": str(tmp / "mail"),
        "files.dir": str(tmp / "files"),
        # Web push goes to a fake push service on loopback (test_push_alert.py).
        "push.allow_http": "true",
        "push.endpoint_hosts": "127.0.0.1",
    }


@pytest.fixture(scope="session")
def live_engine(live_settings):
    engine = make_engine(live_settings)
    migrate.upgrade(engine, PluginRegistry.discover())
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def start_live_server(live_settings, live_engine, tmp_path_factory):
    servers = []

    def start(**extra):
        port = free_port()
        settings = {**live_settings, "consultroom.public_url": f"http://localhost:{port}", **extra}
        tmp = Path(live_settings["mail.folder"]).parent
        path = tmp_path_factory.mktemp("server") / "settings.json"
        path.write_text(json.dumps(settings))
        process = subprocess.Popen(
            [sys.executable, str(HERE / "live_server.py"), str(path), str(port)]
        )
        server = LiveServer(port=port, settings=settings, tmp=tmp, process=process)
        servers.append(server)
        wait_for_port(port, process)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def live_server(start_live_server):
    return start_live_server()


@pytest.fixture(scope="session")
def _observer_engine(live_settings, live_engine):
    # pysqlite's own transaction handling, not the app's explicit BEGIN: a
    # read here takes no lock, so it never blocks the server's writes.
    engine = create_engine(live_settings["sqlalchemy.url"], connect_args={"timeout": 10})
    yield engine
    engine.dispose()


@pytest.fixture
def live_db(_observer_engine):
    session = make_session_factory(_observer_engine)()
    yield session
    session.close()


class LiveData:
    """Factories for what a test needs in the live server's database; each
    commits, so the server (another process) sees it at once."""

    def __init__(self, db):
        self.db = db

    def _save(self, obj):
        self.db.add(obj)
        self.db.commit()
        return obj

    def organisation(self, subdomain=None, options=None, **kw):
        subdomain = subdomain or f"org{secrets.token_hex(4)}"
        return self._save(
            Organisation(
                subdomain=subdomain,
                name=kw.pop("name", subdomain.title()),
                settings=options or {},
                **kw,
            )
        )

    def department(self, org, name="General"):
        return self._save(Department(organisation_id=org.id, name=name))

    def user(self, org, role=Role.practitioner, **kw):
        return self._save(
            User(
                organisation_id=org.id,
                role=role,
                password_hash=password_hash(PASSWORD),
                email=kw.pop("email", f"{secrets.token_hex(4)}@example.org"),
                name=kw.pop("name", "Dr. Jansen"),
                **kw,
            )
        )

    def client(self, org, **kw):
        return self._save(
            Client(
                organisation_id=org.id,
                initials=kw.pop("initials", "A."),
                last_name=kw.pop("last_name", "Bakker"),
                email=kw.pop("email", "client@example.org"),
                **kw,
            )
        )

    def appointment(
        self, org, practitioner=None, department=None, client=None, starts_at=None, **kw
    ):
        return self._save(
            Appointment(
                organisation_id=org.id,
                practitioner_id=practitioner.id if practitioner else None,
                department_id=department.id if department else None,
                client_id=(client or self.client(org)).id,
                starts_at=starts_at or utcnow().replace(microsecond=0) + timedelta(seconds=30),
                duration_minutes=kw.pop("duration_minutes", 20),
                **kw,
            )
        )


@pytest.fixture
def live_data(live_db):
    return LiveData(live_db)


@pytest.fixture(scope="session")
def browser(private_network):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=TEST_CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def _print_page_problems(context, number):
    """Shown with a failing test's captured output."""
    context.on(
        "console",
        lambda m: (
            m.type in ("error", "warning", "log")
            and print(f"[context {number} console.{m.type}] {m.text}")
        ),
    )
    context.on("weberror", lambda e: print(f"[context {number} page error] {e.error}"))


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**kw):
        context = browser.new_context(permissions=["camera", "microphone"], **kw)
        context.set_default_timeout(15_000)
        context.add_init_script(RECORD_CONNECTIONS_JS)
        _print_page_problems(context, len(contexts) + 1)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def client_context(new_context):
    return new_context()


@pytest.fixture
def staff_context(new_context):
    return new_context()


@pytest.fixture
def log_in(live_server, live_db):
    def do(page, user):
        org = live_db.get(Organisation, user.organisation_id)
        page.goto(live_server.url(org.subdomain, "/login"))
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        assert "/login" not in page.url, page.content()

    return do


@pytest.fixture
def rtc_stats():
    def stats(page):
        return page.evaluate(STATS_JS)

    return stats


@pytest.fixture
def poll():
    def wait(page, expression, timeout=15):
        deadline = time.monotonic() + timeout
        while not (value := page.evaluate(expression)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression} stayed {value!r} for {timeout} s")
            page.wait_for_timeout(100)
        return value

    return wait


def _from_peers(stats, kind, flowing):
    return sum(1 for r in stats if r["type"] == "inbound-rtp" and r["kind"] == kind and flowing(r))


@pytest.fixture
def wait_for_media(rtc_stats):
    def wait(page, video=1, audio=0, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            stats = rtc_stats(page)
            if (
                _from_peers(stats, "video", lambda r: r.get("framesDecoded", 0) > 0) >= video
                and _from_peers(
                    stats,
                    "audio",
                    lambda r: (
                        r.get("packetsReceived", 0) > 0 and r.get("totalSamplesReceived", 0) > 0
                    ),
                )
                >= audio
            ):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no media from {video} video / {audio} audio peers within {timeout} s: {stats}"
                )
            page.wait_for_timeout(200)

    return wait
