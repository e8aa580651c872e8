"""What the realtime benchmarks share: the application served by its real
server runner in a subprocess, on a fresh database with the people a
benchmark needs; the baseline server (plain gevent-websocket, no
application); websocket clients; percentiles and a process's memory.

The benchmarks import this after ``gevent.monkey.patch_all()``, so that
hundreds of websocket clients in one process are cooperative greenlets.
"""

import http.client
import itertools
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import gevent
import gevent.pool
import websocket

from consultroom.testing import free_port, stop_process, wait_for_port

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PASSWORD = "benchmark-password-1"
BASE_DOMAIN = "localhost"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def children(pid):
    """The child processes of ``pid`` (gunicorn's workers)."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def spread(values, unit="", digits=2):
    """``min … median … max`` of a measurement repeated over the rounds."""
    return (
        f"min {min(values):.{digits}f}{unit} median {statistics.median(values):.{digits}f}{unit}"
        f" max {max(values):.{digits}f}{unit}"
    )


class Socket:
    """A websocket client speaking JSON."""

    def __init__(self, url, host=None, origin=None, cookie=None, timeout=30):
        # websocket-client's UTF-8 check is pure Python: it would be measured, not the server.
        self.ws = websocket.create_connection(
            url,
            host=host,
            origin=origin,
            cookie=cookie,
            timeout=timeout,
            enable_multithread=True,
            skip_utf8_validation=True,
        )

    def send(self, message):
        self.ws.send(json.dumps(message))

    def receive(self):
        return json.loads(self.ws.recv())

    def receive_until(self, accept):
        """The first message ``accept(message)`` is true for, answering pings."""
        while True:
            message = self.receive()
            if message.get("type") == "ping":
                self.send({"type": "pong"})
            elif accept(message):
                return message

    def close(self):
        self.ws.close()


class Crowd:
    """``count`` sockets from ``open_socket()``, opened ``concurrency`` at a
    time, each read by a greenlet that answers the server's pings and hands
    every other message to ``on_message(index, message, perf_counter time)``.
    ``dropped`` holds the indexes of the sockets the server closed."""

    def __init__(self, open_socket, count, on_message=None, concurrency=50):
        self.on_message = on_message or (lambda index, message, when: None)
        self.dropped = set()
        self.closing = False
        self.sockets = gevent.pool.Pool(concurrency).map(lambda _: open_socket(), range(count))
        self.readers = [gevent.spawn(self._read, i, s) for i, s in enumerate(self.sockets)]

    def _read(self, index, sock):
        try:
            while True:
                try:
                    message = sock.receive()
                except websocket.WebSocketTimeoutException:
                    continue  # an idle socket (the echo server sends no pings)
                if message.get("type") == "ping":
                    sock.send({"type": "pong"})
                else:
                    self.on_message(index, message, time.perf_counter())
        except (websocket.WebSocketException, OSError, ValueError):
            if not self.closing:
                self.dropped.add(index)

    def close(self):
        self.closing = True
        gevent.killall(self.readers)
        for sock in self.sockets:
            sock.close()


def raise_open_files_limit():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def server_command(ini, port, runner, workers=1, *options):
    """The command that serves the paste ``ini`` on ``port``: ``pserve`` with
    our gevent-websocket runner, or gunicorn with Consultroom's worker
    as production.ini says (``options`` are more of gunicorn's)."""
    if runner == "pserve":
        return [BIN / "pserve", str(ini)]
    return [
        BIN / "gunicorn",
        *options,
        "--paste",
        str(ini),
        "--worker-class",
        "consultroom.gunicorn_worker.Worker",
        "--workers",
        str(workers),
        # gevent workers serve 1,000 connections each unless told otherwise.
        "--worker-connections",
        "10000",
        # Stopping the benchmark's servers need not wait for open sockets.
        "--graceful-timeout",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
    ]


def timed_gets(port, path, headers, requests, expected=None):
    """``(median milliseconds, last body)`` of ``requests`` GETs of ``path``
    on one keep-alive connection, after one unmeasured warm-up. An answer
    that is not a 200, or lacks the bytes ``expected``, stops the benchmark:
    a fast error page measures nothing."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    for n in range(requests + 1):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or (expected is not None and expected not in body):
            raise RuntimeError(f"GET {path}: {response.status}, or no {expected!r} in it")
        if n:
            latencies.append((time.perf_counter() - started) * 1000)
    connection.close()
    return statistics.median(latencies), body


def stack(args):
    """How the application ran, for a benchmark's header: the bus, the
    runner (and gunicorn's workers, where the benchmark sets them) and the
    database."""
    runner = args.runner
    workers = getattr(args, "workers", None)
    if workers and runner == "gunicorn":
        runner += f" ({workers} workers)"
    return f"bus: {args.bus}, runner: {runner}, database: {'PostgreSQL' if args.db else 'SQLite'}"


class BaselineServer:
    """``baseline_server.py`` in a subprocess (``relay_redis``: its
    ``/relay``'s Redis URL)."""

    def __init__(self, bus="memory", relay_redis=None):
        self.port = free_port()
        command = [sys.executable, str(HERE / "baseline_server.py"), str(self.port), bus]
        self.process = subprocess.Popen(command + ([relay_redis] if relay_redis else []))
        wait_for_port(self.port, self.process)

    def socket(self, path):
        return Socket(f"ws://127.0.0.1:{self.port}{path}")

    def stop(self):
        stop_process(self.process)


class AppServer:
    """The application (``pserve`` with the gevent-websocket runner, or with
    ``runner="gunicorn"`` gunicorn with Consultroom's worker and
    ``workers`` workers, as production.ini says) on a fresh SQLite database,
    or a fresh database on the PostgreSQL server at ``db``
    (``postgresql+psycopg://root@/postgres?host=/var/run/postgresql``), with
    one organisation "bench"; ``settings`` are added to the ini file."""

    def __init__(self, db=None, runner="pserve", workers=1, **settings):
        self.runner = runner
        self.workers = workers
        self.tmp = Path(tempfile.mkdtemp(prefix="consultroom-bench-"))
        self.db_url, self._drop = self._database(db)
        self.settings = {
            "sqlalchemy.url": self.db_url,
            "consultroom.base_domain": BASE_DOMAIN,
            "session.secret": secrets.token_urlsafe(48),
            "session.secure": "false",
            "mail.transport": "folder",
            "mail.folder": str(self.tmp / "mail"),
            # The benchmarks measure the relay, not the flood protection.
            "realtime.rate": "100000",
            "realtime.burst": "100000",
            **settings,
        }
        if self.settings.get("realtime.bus") == "redis":
            # As in production.ini: Redis counts the rate limits too (per run:
            # failures of other runs from 127.0.0.1 must not lock this one out).
            self.settings.setdefault("redis.url", "redis://127.0.0.1:6379/0")
            self.settings.setdefault("ratelimit.prefix", f"bench:{secrets.token_hex(4)}:")
        self._migrate()
        self._starts = itertools.count()
        self.processes = []
        self.ports = []
        self.start_process()

    def _database(self, server):
        from consultroom.testing import scratch_database

        return scratch_database(server, self.tmp / "bench.sqlite", prefix="consultroom_bench")

    def _migrate(self):
        from consultroom.db import make_engine, make_session_factory, migrate
        from consultroom.plugins.registry import PluginRegistry
        from consultroom.tenancy.models import Organisation

        self.engine = make_engine(self.settings)
        migrate.upgrade(self.engine, PluginRegistry.discover())
        self.db = make_session_factory(self.engine)()
        self.org = Organisation(subdomain="bench", name="Benchmark clinic")
        self.db.add(self.org)
        self.db.commit()

    def start_process(self, **settings):
        """One more application process on the same database."""
        port = free_port()
        lines = ["[app:main]", "use = egg:consultroom"]
        # Links and the websocket's same-origin check use the public address.
        public = {"consultroom.public_url": f"http://{BASE_DOMAIN}:{port}"}
        lines += [f"{k} = {v}" for k, v in {**public, **self.settings, **settings}.items()]
        lines += [
            "",
            "[server:main]",
            "use = egg:consultroom#gevent_websocket",
            "host = 127.0.0.1",
            f"port = {port}",
        ]
        ini = self.tmp / f"app-{port}.ini"
        ini.write_text("\n".join(lines) + "\n")
        log = (self.tmp / f"app-{port}.log").open("w")
        process = subprocess.Popen(self._command(ini, port), stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(port, process)
        self._wait_for_workers(port, process)
        self.processes.append(process)
        self.ports.append(port)
        return port

    def _command(self, ini, port):
        if self.runner == "pserve":
            return server_command(ini, port, "pserve")
        # Each worker says when it has loaded the application.
        hooks = self.tmp / f"gunicorn-{port}.py"
        hooks.write_text(
            "def post_worker_init(worker):\n"
            f"    open(f'{self.tmp}/ready-{port}-{{worker.pid}}', 'w').close()\n"
        )
        return server_command(ini, port, "gunicorn", self.workers, "--config", str(hooks))

    def _wait_for_workers(self, port, process, timeout=120):
        """Until every gunicorn worker has loaded the application."""
        deadline = time.monotonic() + timeout
        while self.runner == "gunicorn":
            ready = {int(p.name.rsplit("-", 1)[1]) for p in self.tmp.glob(f"ready-{port}-*")}
            if ready >= set(children(process.pid)) and len(ready) >= self.workers:
                return
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn's workers did not start")
            time.sleep(0.1)

    @property
    def port(self):
        return self.ports[0]

    @property
    def pid(self):
        return self.processes[0].pid

    def serving_pids(self):
        """The processes that serve the sockets: pserve, or gunicorn's workers."""
        pids = [p.pid for p in self.processes]
        if self.runner == "pserve":
            return pids
        return [child for pid in pids for child in children(pid)]

    # -- people ---------------------------------------------------------

    def department(self, name="General"):
        from consultroom.tenancy.models import Department

        return self._save(Department(organisation_id=self.org.id, name=name))

    def staff(self, name="Dr. Bench", department=None):
        from consultroom.accounts.models import Role, User
        from consultroom.testing import password_hash

        return self._save(
            User(
                organisation_id=self.org.id,
                role=Role.practitioner,
                name=name,
                email=f"{secrets.token_hex(5)}@bench.example",
                password_hash=password_hash(PASSWORD),
                department_id=department.id if department else None,
            )
        )

    def appointment(self, practitioner=None, department=None):
        from consultroom.appointments.models import Appointment
        from consultroom.clients.models import Client
        from consultroom.db import utcnow

        client = self._save(
            Client(
                organisation_id=self.org.id,
                initials="B.",
                last_name=f"Client {secrets.token_hex(3)}",
                email="client@bench.example",
            )
        )
        return self._save(
            Appointment(
                organisation_id=self.org.id,
                client_id=client.id,
                practitioner_id=practitioner.id if practitioner else None,
                department_id=department.id if department else None,
                # A department has one appointment per start time.
                starts_at=utcnow().replace(microsecond=0) + timedelta(seconds=next(self._starts)),
                duration_minutes=30,
            )
        )

    def _save(self, obj):
        self.db.add(obj)
        self.db.commit()
        return obj

    # -- HTTP and websockets --------------------------------------------

    def host(self, port=None):
        return f"{self.org.subdomain}.{BASE_DOMAIN}:{port or self.port}"

    def log_in(self, user, port=None):
        """The session cookie of ``user``, logged in through the login form."""
        host = self.host(port)
        connection = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=30)
        connection.request("GET", "/login", headers={"Host": host})
        response = connection.getresponse()
        page = response.read().decode()
        cookies = _cookies(response)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = f"csrf_token={token}&email={user.email.replace('@', '%40')}&password={PASSWORD}"
        connection.request(
            "POST",
            "/login",
            body=body,
            headers={
                "Host": host,
                "Cookie": cookies,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        response.read()
        if response.status != 303:
            raise RuntimeError(f"login of {user.email} failed: {response.status}")
        connection.close()
        return _cookies(response) or cookies

    def raw_socket(self, cookie=None, port=None):
        """A websocket to /ws that has not said hello yet."""
        port = port or self.port
        return Socket(
            f"ws://127.0.0.1:{port}/ws",
            host=self.host(port),
            origin=f"http://{self.host(port)}",
            cookie=cookie,
        )

    def socket(self, hello, cookie=None, port=None):
        """A websocket, said hello to; returns it and the welcome message."""
        sock = self.raw_socket(cookie, port)
        sock.send(hello)
        welcome = sock.receive_until(lambda m: m["type"] in ("welcome", "error"))
        if welcome["type"] != "welcome":
            raise RuntimeError(f"refused: {welcome}")
        return sock, welcome

    def staff_socket(self, cookie, port=None):
        return self.socket({"type": "hello", "role": "staff"}, cookie=cookie, port=port)

    def client_socket(self, appointment, port=None):
        return self.socket(
            {"type": "hello", "role": "client", "token": appointment.token}, port=port
        )

    def stop_processes(self):
        for process in self.processes:
            stop_process(process)
        self.processes.clear()
        self.ports.clear()

    def stop(self):
        self.stop_processes()
        self.db.close()
        self.engine.dispose()
        self._drop()


def _cookies(response):
    return "; ".join(
        value.split(";", 1)[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie"
    )


def call_in(staff_sock, client_sock, visit_id):
    """Admit a waiting client: returns the two peer ids (staff, client)."""
    staff_sock.send({"type": "call_in", "visit": visit_id})
    claimed = staff_sock.receive_until(lambda m: m["type"] in ("claimed", "claim_lost", "error"))
    if claimed["type"] != "claimed":
        raise RuntimeError(f"call in failed: {claimed}")
    staff_sock.send({"type": "join", "room": claimed["room"]})
    room = staff_sock.receive_until(lambda m: m["type"] == "room")
    admitted = client_sock.receive_until(lambda m: m["type"] == "admitted")
    return room["peer"], admitted["peer"]


def waiting_visit(sock):
    """The client's visit id, from its ``waiting`` message."""
    return sock.receive_until(lambda m: m["type"] == "waiting")["visit"]
