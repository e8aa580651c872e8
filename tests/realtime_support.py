"""A real Consultroom server for the realtime tests: ``pserve`` with the
gevent-websocket runner on a free loopback port, its own database (a SQLite
file, or a fresh PostgreSQL database when CONSULTROOM_TEST_DB names a
server), and helpers to make data in that database and to talk to the server
over HTTP and websockets (websocket-client)."""

import http.client
import json
import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import websocket

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment, Kind
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, utcnow
from consultroom.tenancy.models import Department, Organisation
from consultroom.testing import (
    free_port,
    migrated_database,
    password_hash,
    stop_process,
)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BASE_DOMAIN = "consultroom.test"
PASSWORD = "correct horse battery"

INI = """
[app:main]
use = egg:consultroom
consultroom.base_domain = {base}
consultroom.public_url = http://{base}:{port}
sqlalchemy.url = {url}
session.secret = {secret}
session.secure = false
passwords.argon2_profile = CHEAPEST
mail.transport = folder
mail.folder = {here}/mail
mail.sender = Consultroom <noreply@consultroom.test>
mail.deliver_after_commit = off
files.dir = {here}/files
files.max_bytes = 200000
realtime.bus = {bus}
redis.url = {redis_url}
realtime.redis_channel = {channel}
ratelimit.prefix = {channel}:ratelimit:
realtime.grace_seconds = 2
realtime.ping_seconds = 1
realtime.idle_seconds = 4
realtime.rate = 20
realtime.burst = 40
turn.urls = turn:turn.consultroom.test:3478 turns:turn.consultroom.test:5349
stun.urls = stun:turn.consultroom.test:3478
turn.secret = {turn_secret}
turn.ttl_seconds = 600
# The tests change organisations' settings behind the server's back.
cache.seconds = 0
{extra}

[server:main]
use = egg:consultroom#gevent_websocket
host = 127.0.0.1
port = {port}

[loggers]
keys = root, consultroom

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_consultroom]
level = {log_level}
handlers =
qualname = consultroom

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


# The servers started and not stopped yet: a test that fails shows the end of
# their logs (CI keeps nothing else of a failed run).
_running = set()
LOG_LINES_SHOWN = 150


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for server in sorted(_running, key=lambda s: s.ports):
            report.sections.append((f"server log, ports {server.ports}", server.log_tail()))
    return report


def database_url(here):
    """A database for ``Server``, already migrated."""
    return migrated_database(
        os.environ.get("CONSULTROOM_TEST_DB", ""),
        f"{here}/realtime.sqlite",
        prefix="consultroom_rt",
    )


class Server:
    """One or more ``pserve`` processes sharing one database, migrated
    already (``database_url``). ``settings``:
    more of the app's settings (name: value); rate limits count in Redis
    unless ``redis_url`` is empty; ``log_level``: the consultroom loggers'
    (the log is ``log()``)."""

    def __init__(
        self,
        here,
        url,
        bus="memory",
        processes=1,
        redis_url="redis://127.0.0.1:6379/0",
        runner="pserve",
        settings=None,
        log_level="WARNING",
    ):
        self.here = Path(here)
        self.settings = settings or {}
        self.log_level = log_level  # of the consultroom loggers
        self.runner = runner
        self.redis_url = redis_url
        self.url = url
        self.turn_secret = secrets.token_hex(16)
        self.channel = f"consultroom:test:{secrets.token_hex(4)}"
        self.secret = secrets.token_urlsafe(48)
        self.bus = bus
        self.ports = [free_port() for _ in range(processes)]
        self.processes = []
        self.engine = make_engine({"sqlalchemy.url": url})
        self.dbmaker = make_session_factory(self.engine)

    @property
    def port(self):
        return self.ports[0]

    def ini(self, port):
        path = self.here / f"server-{port}.ini"
        path.write_text(
            INI.format(
                base=BASE_DOMAIN,
                port=port,
                url=self.url,
                secret=self.secret,
                here=self.here,
                bus=self.bus,
                channel=self.channel,
                turn_secret=self.turn_secret,
                redis_url=self.redis_url,
                log_level=self.log_level,
                extra="\n".join(f"{k} = {v}" for k, v in self.settings.items()),
            )
        )
        return path

    def start(self):
        for port in self.ports:
            log = open(self.here / f"server-{port}.log", "w")
            self.processes.append(
                subprocess.Popen(self.command(port), stdout=log, stderr=subprocess.STDOUT)
            )
        _running.add(self)
        for port, process in zip(self.ports, self.processes, strict=True):
            served(port, process)
        return self

    def command(self, port):
        """pserve with our runner, or gunicorn with our worker class as
        production.ini suggests."""
        if self.runner == "gunicorn":
            return [
                BIN / "gunicorn",
                "--paste",
                self.ini(port),
                "--workers",
                "1",
                "--worker-class",
                "consultroom.gunicorn_worker.Worker",
                "--bind",
                f"127.0.0.1:{port}",
            ]
        return [BIN / "pserve", self.ini(port)]

    def stop(self):
        _running.discard(self)
        for process in self.processes:
            stop_process(process)
        self.engine.dispose()

    def log(self):
        return "\n".join((self.here / f"server-{p}.log").read_text() for p in self.ports)

    def log_tail(self, lines=LOG_LINES_SHOWN):
        return "\n".join(self.log().splitlines()[-lines:])

    # -- data -----------------------------------------------------------------

    def add(self, *objects):
        with self.dbmaker() as session:
            session.add_all(objects)
            session.commit()
        return objects[0] if len(objects) == 1 else objects

    def organisation(self, **settings):
        sub = f"o{secrets.token_hex(4)}"
        return self.add(Organisation(subdomain=sub, name=f"Org {sub}", settings=settings))

    def set_department_email(self, department, address):
        with self.dbmaker() as session, session.begin():
            session.get(Department, department.id).arrival_email = address

    def set_options(self, organisation, **settings):
        with self.dbmaker() as session:
            org = session.get(Organisation, organisation.id)
            org.settings = {**(org.settings or {}), **settings}
            session.commit()

    def department(self, organisation, name="Physio"):
        return self.add(Department(organisation_id=organisation.id, name=name))

    def user(self, organisation, role=Role.practitioner, department=None, name=None):
        n = secrets.token_hex(3)
        return self.add(
            User(
                organisation_id=organisation.id,
                email=f"u{n}@example.org",
                name=name or f"Doctor {n}",
                role=role,
                password_hash=password_hash(PASSWORD),
                department_id=department.id if department else None,
            )
        )

    def appointment(
        self,
        organisation,
        practitioner=None,
        department=None,
        minutes=0,
        kind=Kind.quick,
        name="Jansen",
    ):
        client = Client(
            organisation_id=organisation.id,
            initials="J.",
            last_name=name,
            email="client@example.org",
        )
        appointment = Appointment(
            organisation_id=organisation.id,
            client=client,
            practitioner_id=practitioner.id if practitioner else None,
            department_id=department.id if department else None,
            kind=kind,
            starts_at=(utcnow() + timedelta(minutes=minutes)).replace(second=0, microsecond=0),
            duration_minutes=20,
        )
        return self.add(client, appointment)[1]

    def query(self, statement):
        with self.dbmaker() as session:
            return session.execute(statement).all()


def served(port, process, timeout=90):
    """Wait until the server on ``port`` answers a request (a refused
    connection is tried again). gunicorn listens before its workers have
    loaded the application, which on a loaded machine took longer than a
    test's request may wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()  # an answer, whatever it says
            return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"no answer on port {port} after {timeout} s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client for one organisation's subdomain."""

    def __init__(self, port, organisation):
        self.port = port
        self.host = f"{organisation.subdomain}.{BASE_DOMAIN}:{port}"
        self.origin = f"http://{self.host}"
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path, data=None, headers=None, method=None, timeout=10):
        all_headers = {"Host": self.host, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = self.cookie_header()
        if isinstance(data, dict):
            data = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=all_headers, method=method
        )
        try:
            response = urllib.request.build_opener(NoRedirect).open(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.headers, response.read()

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def log_in(self, user):
        status, _headers, page = self.request("/login")
        assert status == 200, page
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _headers, page = self.request(
            "/login", {"csrf_token": token, "email": user.email, "password": PASSWORD}
        )
        assert status == 303, page
        return self

    def csrf_token(self):
        status, _headers, page = self.request("/waiting-room")
        assert status == 200, page
        config = re.search(rb'"csrf": "([^"]+)"', page) or re.search(
            rb'name="csrf_token" value="([^"]+)"', page
        )
        return config.group(1).decode()

    def socket(self, origin=None, cookies=True):
        return Socket(self, origin or self.origin, cookies)


class WaitingList:
    """What a staff page shows (realtime.js's WaitingList does the same): the
    full ``waiting_list`` changed by each ``waiting_delta``; a sequence number
    skipped means a delta was missed (``apply`` says "gap")."""

    def __init__(self, message):
        self.message = message
        self.entries = {e["id"]: e for e in message["entries"]}
        self.seq = dict(message.get("seq") or {})
        self.upcoming = list(message["upcoming"])

    def apply(self, delta):
        """Whether it applied: "ok", "gap", or None (not for this list, or older)."""
        section, seq = delta["section"], delta["seq"]
        if section not in self.seq or seq <= self.seq[section]:
            return None
        if seq != self.seq[section] + 1:
            return "gap"
        self.seq[section] = seq
        if delta["op"] == "remove":
            gone = self.entries.pop(delta["id"], None)
            self.upcoming = [
                u for u in self.upcoming if u["appointment_id"] != delta["appointment_id"]
            ]
            if delta["left"] and gone and self.message["force_start"]:
                self.upcoming.append({k: gone[k] for k in ("appointment_id", "name", "starts_at")})
                self.upcoming.sort(key=lambda u: u["starts_at"] or "")
        else:
            self.entries[delta["entry"]["id"]] = delta["entry"]
        return "ok"

    def listing(self):
        """The list in ``waiting_list``'s shape, as the page shows it now."""
        entries = sorted(self.entries.values(), key=lambda e: (e["arrived_at"] or "", e["id"]))
        waiting = {e["appointment_id"] for e in entries}
        return {
            **self.message,
            "entries": entries,
            "count": len(entries),
            "seq": dict(self.seq),
            "upcoming": [u for u in self.upcoming if u["appointment_id"] not in waiting],
            "applied": True,  # made here from deltas, not sent by the server
        }


class Socket:
    """A websocket client that keeps every message it received. A thread
    reads all the time and answers pings (like the pages' JavaScript) unless
    ``auto_pong`` is off."""

    def __init__(self, browser, origin, cookies):
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{browser.port}/ws",
            host=browser.host,
            origin=origin,
            cookie=browser.cookie_header() if cookies and browser.cookies else None,
            timeout=None,
        )
        self.received = []
        # A staff socket's list as its page shows it: after each delta, the
        # list it makes is received as a "waiting_list" too; on a gap the
        # socket asks for the full list, like the page.
        self.waiting = None
        self.delta_texts = []
        # The deltas in which the socket saw a number skipped (and so asked
        # for the full list): ``waiting`` is None only until that list comes.
        self.gaps = []
        self.peer = None
        self.auto_pong = True
        self.inbox = queue.Queue()
        self.closed_with = queue.Queue()
        self.close_reason = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        code = None
        try:
            while True:
                opcode, frame = self.ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    data = frame.data
                    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                    self.close_reason = data[2:].decode()
                    return
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue
                message = json.loads(frame.data)
                if message["type"] == "ping" and self.auto_pong:
                    self.send({"type": "pong"})
                # The list kept first: a test that has received a message
                # sees ``waiting`` (and ``delta_texts``) as they are after it.
                shown = self._keep_waiting_list(message, frame.data)
                self.inbox.put(message)
                if shown is not None:
                    self.inbox.put(shown)
        except Exception:
            return
        finally:
            self.closed_with.put(code)
            self.inbox.put(None)

    def _keep_waiting_list(self, message, text):
        """Keep the list as the page would after ``message``; the list the
        page now shows if a delta changed it (received after the delta)."""
        kind = message["type"]
        if kind == "waiting_list":
            self.waiting = WaitingList(message)
        elif kind == "waiting_delta":
            self.delta_texts.append(text)
            applied = self.waiting.apply(message) if self.waiting else None
            if applied == "ok":
                return self.waiting.listing()
            if applied == "gap":
                self.gaps.append(message)
                self.waiting = None
                self.send({"type": "resync"})
        elif kind == "walk_in" and self.waiting:
            self.waiting.message = {**self.waiting.message, "walk_in_available": message["on"]}
        return None

    def send(self, message):
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def flood(self, seconds=20):
        """Pings as fast as the socket takes them, until the server closes
        it (or ``seconds`` pass): a flood however fast the server reads."""
        deadline = time.time() + seconds
        try:
            while self.closed_with.empty() and time.time() < deadline:
                for _ in range(50):
                    self.send({"type": "ping"})
        except (OSError, websocket.WebSocketException):
            pass  # closed while sending

    def recv(self, timeout=5):
        message = self.inbox.get(timeout=max(timeout, 0.01))
        if message is None:
            self.inbox.put(None)
            raise ConnectionError("closed")
        self.received.append(message)
        return message

    def expect(self, kind, timeout=5):
        """The next message of type ``kind``; the others are kept in
        ``received`` and skipped."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            try:
                if left <= 0:
                    raise queue.Empty()
                message = self.recv(left)
            except queue.Empty:
                raise AssertionError(
                    f"no {kind!r}; got {[m['type'] for m in self.received]}"
                ) from None
            if message["type"] == kind:
                return message

    def hello(self, role, token=None):
        message = {"type": "hello", "role": role}
        if token:
            message["token"] = token
        self.send(message)
        welcome = self.expect("welcome")
        self.peer = welcome["peer"]
        return welcome

    def drain(self, seconds=0.3):
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.recv(end - time.time())
            except (queue.Empty, ConnectionError):
                if self.closed_with.qsize():
                    return

    def close_code(self, timeout=5):
        """Wait until the server closes; the close code."""
        code = self.closed_with.get(timeout=timeout)
        self.closed_with.put(code)
        while True:
            try:
                self.recv(0.01)
            except (queue.Empty, ConnectionError):
                return code

    def close(self):
        self.ws.close()


# -- fixtures and shortcuts ------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One live server for the session (per xdist worker): every test makes
    its own organisation on it, so they do not see each other."""
    here = tmp_path_factory.mktemp("realtime")
    url, drop = database_url(here)
    # Web push goes to a fake push service on loopback (tests/test_alerts.py).
    push = {"push.allow_http": "true", "push.endpoint_hosts": "127.0.0.1"}
    server = Server(here, url, settings=push).start()
    yield server
    server.stop()
    drop()


@pytest.fixture
def clinic(server):
    org = server.organisation(
        force_start=True, file_sharing=True, follow_up_text="Thank you, see you next week."
    )
    doctor = server.user(org, name="Dr Who")
    return org, doctor


def staff_socket(server, org, user):
    browser = Browser(server.port, org).log_in(user)
    socket = browser.socket()
    socket.hello("staff")
    return browser, socket


def consultation(server, org, doctor):
    """A room with the doctor (joined) and a client of theirs (admitted):
    ``(browser, staff socket, client socket, appointment, room id)``."""
    appointment = server.appointment(org, doctor)
    client = client_socket(server, org, appointment)
    client.expect("waiting")
    browser, staff = staff_socket(server, org, doctor)
    visit = staff.expect("waiting_list")["entries"][0]["id"]
    staff.send({"type": "call_in", "visit": visit})
    room = staff.expect("claimed")["room"]
    client.expect("admitted")
    staff.send({"type": "join", "room": room})
    staff.expect("room")
    return browser, staff, client, appointment, room


def client_socket(server, org, appointment):
    socket = Browser(server.port, org).socket()
    socket.hello("client", appointment.token)
    return socket


def refused(socket):
    error = socket.expect("error")
    assert error["code"] == "unauthorized"
    assert socket.close_code() == 4401
