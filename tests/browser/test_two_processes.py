"""Two application processes sharing PostgreSQL and Redis: the client's page
is served by one, the practitioner's by the other, and the call is set up
between them (both Chromium pages decode the other's video). Then Redis is
killed and started again, and signalling between the processes resumes
within 5 seconds.

In the private network namespace PostgreSQL is reached over its unix socket
(``CONSULTROOM_BROWSER_PG``, default below); the test runs its own Redis on
a free loopback port, so restarting it disturbs no other test.
"""

import json
import os
import secrets
import subprocess
import time

import pytest
import websocket
from conftest import PASSWORD, LiveData
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consultroom.db import make_engine, make_session_factory, migrate
from consultroom.plugins.registry import PluginRegistry
from consultroom.testing import free_port

PG_SERVER = os.environ.get(
    "CONSULTROOM_BROWSER_PG", "postgresql+psycopg://root@/postgres?host=/var/run/postgresql"
)
RESUME_SECONDS = 5


@pytest.fixture(scope="module")
def pg_url():
    name = f"consultroom_two_{secrets.token_hex(4)}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is needed at {PG_SERVER} (its unix socket inside the"
            f" namespace; set CONSULTROOM_BROWSER_PG): {exc}",
            pytrace=False,
        )
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    engine = make_engine({"sqlalchemy.url": url})
    migrate.upgrade(engine, PluginRegistry.discover())
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Redis:
    """A redis-server of this test's own, restartable on the same port."""

    def __init__(self):
        self.port = free_port()
        self.process = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def redis_server():
    server = Redis()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def two_servers(start_live_server, pg_url, redis_server):
    settings = {"sqlalchemy.url": pg_url, "realtime.bus": "redis", "redis.url": redis_server.url}
    servers = [start_live_server(**settings), start_live_server(**settings)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def data(pg_url):
    engine = make_engine({"sqlalchemy.url": pg_url})
    session = make_session_factory(engine)()
    yield LiveData(session)
    session.close()
    engine.dispose()


class JsonSocket:
    def __init__(self, server, subdomain, cookie=None):
        host = f"{subdomain}.localhost:{server.port}"
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/ws",
            host=host,
            origin=f"http://{host}",
            cookie=cookie,
            timeout=10,
        )

    def send(self, message):
        self.ws.send(json.dumps(message))

    def receive_until(self, accept, timeout=10):
        """The first message ``accept`` takes within ``timeout`` s, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return None
            if message.get("type") == "ping":
                self.send({"type": "pong"})
            elif accept(message):
                return message
        return None

    def close(self):
        self.ws.close()


def _of_type(kind):
    return lambda message: message.get("type") == kind


def _decodes_video(stats):
    return any(
        r["type"] == "inbound-rtp" and r["kind"] == "video" and r.get("framesDecoded", 0) > 0
        for r in stats
    )


def _wait_for_video(page, rtc_stats, timeout=20):
    deadline = time.monotonic() + timeout
    while not _decodes_video(rtc_stats(page)):
        assert time.monotonic() < deadline, "no video decoded"
        page.wait_for_timeout(200)


def _call_in_with_chromium(
    one, other, org, doctor, appointment, client_context, staff_context, rtc_stats
):
    client = client_context.new_page()
    client.goto(one.url(org.subdomain, f"/c/{appointment.token}"))
    expect(client.locator("[data-connection]")).to_have_attribute("data-state", "online")
    staff = staff_context.new_page()
    staff.goto(other.url(org.subdomain, "/login"))
    staff.fill("input[name=email]", doctor.email)
    staff.fill("input[name=password]", PASSWORD)
    with staff.expect_navigation():
        staff.click("form button[type=submit]")
    staff.goto(other.url(org.subdomain, "/waiting-room"))
    entry = staff.locator(".waiting-entry", has_text="A. Bakker")
    expect(entry).to_be_visible()
    entry.locator("[data-call-in]").click()
    staff.wait_for_url("**/room/**")
    expect(client.locator("[data-room]")).to_be_visible()
    for page in (client, staff):
        _wait_for_video(page, rtc_stats)


def _sockets_in_a_room(one, other, org, cookie, appointment):
    """A client socket on ``one`` and a staff socket on ``other``, in one
    room: returns them and the client's peer id."""
    client = JsonSocket(one, org.subdomain)
    client.send({"type": "hello", "role": "client", "token": appointment.token})
    visit = client.receive_until(_of_type("waiting"))["visit"]
    staff = JsonSocket(other, org.subdomain, cookie=cookie)
    staff.send({"type": "hello", "role": "staff"})
    assert staff.receive_until(_of_type("welcome"))
    staff.send({"type": "call_in", "visit": visit})
    room = staff.receive_until(_of_type("claimed"))["room"]
    staff.send({"type": "join", "room": room})
    assert staff.receive_until(_of_type("room"))
    peer = client.receive_until(_of_type("admitted"))["peer"]
    return client, staff, peer


def _signal_arrives(staff, client, peer, timeout):
    staff.send({"type": "signal", "to": peer, "data": {"candidate": {"candidate": "", "n": 1}}})
    return client.receive_until(_of_type("signal"), timeout=timeout)


def test_call_across_two_processes_survives_a_redis_restart(
    two_servers, redis_server, data, client_context, staff_context, rtc_stats
):
    one, other = two_servers
    org = data.organisation()
    doctor = data.user(org, name="Dr. Jansen")
    first = data.appointment(
        org, practitioner=doctor, client=data.client(org, initials="A.", last_name="Bakker")
    )
    _call_in_with_chromium(one, other, org, doctor, first, client_context, staff_context, rtc_stats)

    cookie = "; ".join(f"{c['name']}={c['value']}" for c in staff_context.cookies())
    second = data.appointment(
        org, practitioner=doctor, client=data.client(org, initials="B.", last_name="Visser")
    )
    client, staff, peer = _sockets_in_a_room(one, other, org, cookie, second)
    try:
        assert _signal_arrives(staff, client, peer, timeout=5) is not None

        redis_server.kill()
        redis_server.start()
        back = time.monotonic()
        while _signal_arrives(staff, client, peer, timeout=0.2) is None:
            assert time.monotonic() - back < RESUME_SECONDS, (
                f"no signal crossed the processes {RESUME_SECONDS} s after Redis came back"
            )
        print(f"signalling resumed {time.monotonic() - back:.2f} s after Redis came back")
    finally:
        client.close()
        staff.close()
