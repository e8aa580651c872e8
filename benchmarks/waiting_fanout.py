"""Waiting-room fan-out: ``--waiting`` clients in the list, ``--watchers``
staff sockets watching it.

The staff of one department (``--staff`` practitioners, ``--watchers``
sockets spread over them) watch the department's waiting list, which holds
``--waiting`` clients already (written to the database as connected visits
before the server starts watching: the list's length is what is measured,
not those clients' sockets). Then clients of the department arrive (say
hello on the websocket of their link); measured is the time from that hello
until each watching socket has been told of the new client (the
``waiting_delta`` adding it): per arrival the p95 over the watchers, and
p50/p95 of all deliveries.

The baseline is a fan-out of a trivial message over the same bus
(``consultroom.realtime.bus``) to as many sockets of a plain gevent-websocket
server (no application, no database): what is left is the cost of the
waiting room. Both servers stay up with their sockets open, and the rounds
interleave them: a batch of ``--arrivals`` baseline messages, then a batch
of arrivals, ``--rounds`` times (after one unmeasured warm-up of each).
Printed per figure: min/median/max over the rounds, and the ratio of the
medians. The client reads without validating UTF-8 in Python
(``skip_utf8_validation``), which would otherwise dominate the figures.

    .venv-test/bin/python benchmarks/waiting_fanout.py [--waiting 2000] [--watchers 500]
        [--staff 10] [--arrivals 10] [--rounds 3]
        [--db postgresql+psycopg://root@127.0.0.1:5432/postgres] [--bus memory|redis]
        [--runner gunicorn|pserve] [--processes 1]

The application runs as production.ini says (gunicorn with gevent-websocket's
worker, or ``--runner pserve``); with ``--processes`` above 1 (and the Redis
bus) the watchers are spread over that many app processes and the clients
arrive on the first.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

import gevent.event  # noqa: E402

from figures import figure  # noqa: E402
from realtime_support import (  # noqa: E402
    AppServer,
    BaselineServer,
    Crowd,
    percentile,
    raise_open_files_limit,
    stack,
)

TIMEOUT = 120


class Rounds:
    """One measured fan-out at a time: ``expect(matches)`` arms it, each
    watcher's first matching message is timed, ``wait()`` returns the
    milliseconds from ``started`` for every watcher."""

    def __init__(self, watchers):
        self.watchers = watchers
        self.matches = None

    def expect(self, matches):
        self.matches = matches
        self.arrived = {}
        self.done = gevent.event.Event()
        self.started = time.perf_counter()

    def on_message(self, index, message, when):
        if self.matches and index not in self.arrived and self.matches(message):
            self.arrived[index] = when
            if len(self.arrived) == self.watchers:
                self.done.set()

    def wait(self):
        if not self.done.wait(TIMEOUT):
            raise SystemExit(f"only {len(self.arrived)} of {self.watchers} watchers were told")
        self.matches = None
        return [(t - self.started) * 1000 for t in self.arrived.values()]


class Baseline:
    def __init__(self, watchers, bus):
        self.server = BaselineServer(bus)
        self.rounds = Rounds(watchers)
        self.crowd = Crowd(lambda: self.server.socket("/fanout"), watchers, self.rounds.on_message)
        self.sender = self.server.socket("/fanout")
        self.sent = 0
        self.batch(1)  # warm-up, not measured (as for the waiting room)

    def batch(self, count):
        results = []
        for _ in range(count):
            n = self.sent = self.sent + 1
            self.rounds.expect(lambda m, n=n: m.get("n") == n)
            self.sender.send({"type": "bench", "n": n})
            results.append(self.rounds.wait())
        return results

    def close(self):
        self.sender.close()
        self.crowd.close()
        self.server.stop()


def _told_of(appointment_id):
    def matches(message):
        if message.get("type") == "waiting_delta":
            return (message.get("entry") or {}).get("appointment_id") == appointment_id
        return message.get("type") == "waiting_list" and any(
            e.get("appointment_id") == appointment_id for e in message.get("entries", ())
        )

    return matches


class WaitingRoom:
    def __init__(self, waiting, watchers, staff, db, bus, runner="gunicorn", processes=1):
        self.app = AppServer(db=db, runner=runner, **{"realtime.bus": bus})
        ports = [self.app.port] + [self.app.start_process() for _ in range(processes - 1)]
        self.department = self.app.department()
        self.starts = iter(range(10**6))
        self._fill(waiting)
        cookies = [
            self.app.log_in(self.app.staff(f"Practitioner {n}", self.department))
            for n in range(staff)
        ]
        self.rounds = Rounds(watchers)
        users = iter(range(watchers))
        sockets = iter(range(watchers))
        # Every watcher has read its full list (the client parses each, a
        # few hundred KB) before anything is measured.
        self.rounds.expect(lambda m: m.get("type") == "waiting_list")
        self.crowd = Crowd(
            lambda: self.app.staff_socket(
                cookies[next(users) % staff], ports[next(sockets) % len(ports)]
            )[0],
            watchers,
            self.rounds.on_message,
        )
        self.rounds.wait()
        self.clients = []
        # Warm-up, not measured: the first arrival opens the process's
        # connections (Redis publisher, rate limiter) and fills its caches.
        self.batch(1)

    def _appointment(self):
        from consultroom.appointments.models import Appointment
        from consultroom.clients.models import Client
        from consultroom.db import utcnow

        client = Client(
            organisation_id=self.app.org.id,
            initials="W.",
            last_name=f"Waiting {secrets.token_hex(3)}",
            email="waiting@bench.example",
        )
        # A department has one appointment per start time.
        starts_at = utcnow().replace(microsecond=0) + timedelta(seconds=next(self.starts))
        return client, Appointment(
            organisation_id=self.app.org.id,
            client=client,
            department_id=self.department.id,
            starts_at=starts_at,
            duration_minutes=30,
        )

    def _fill(self, waiting):
        """``waiting`` clients in the department's list, in one transaction."""
        from consultroom.db import utcnow
        from consultroom.waitingroom.models import WAITING, Visit

        now = utcnow()
        for _ in range(waiting):
            client, appointment = self._appointment()
            visit = Visit(
                organisation_id=self.app.org.id,
                appointment=appointment,
                department_id=self.department.id,
                state=WAITING,
                arrival="on_time",
                arrived_at=now,
                connected=True,
                last_seen=now,
                peer=secrets.token_hex(12),
            )
            self.app.db.add_all([client, appointment, visit])
        self.app.db.commit()

    def batch(self, count):
        appointments = []
        for _ in range(count):
            client, appointment = self._appointment()
            self.app.db.add_all([client, appointment])
            appointments.append(appointment)
        self.app.db.commit()
        results = []
        for appointment in appointments:
            sock = self.app.raw_socket()
            self.rounds.expect(_told_of(appointment.id))
            sock.send({"type": "hello", "role": "client", "token": appointment.token})
            results.append(self.rounds.wait())
            self.clients.append(sock)
        return results

    def close(self):
        for sock in self.clients:
            sock.close()
        self.crowd.close()
        self.app.stop()


def figures(results):
    p95s = [percentile(r, 95) for r in results]
    every = [t for r in results for t in r]
    return {
        "median p95": statistics.median(p95s),
        "worst p95": max(p95s),
        "p50 all": percentile(every, 50),
        "p95 all": percentile(every, 95),
    }


def spread(values):
    return (
        f"min {min(values):8.2f}  median {statistics.median(values):8.2f}"
        f"  max {max(values):8.2f} ms"
    )


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=2000, help="clients already waiting")
    parser.add_argument("--watchers", type=int, default=500, help="staff sockets watching")
    parser.add_argument("--staff", type=int, default=10, help="practitioners they belong to")
    parser.add_argument("--arrivals", type=int, default=10, help="arrivals per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="memory", choices=["memory", "redis"])
    parser.add_argument("--runner", default="gunicorn", choices=["gunicorn", "pserve"])
    parser.add_argument("--processes", type=int, default=1, help="app processes (Redis bus)")
    args = parser.parse_args(argv)
    raise_open_files_limit()
    baseline = Baseline(args.watchers, args.bus)
    subject = WaitingRoom(
        args.waiting, args.watchers, args.staff, args.db, args.bus, args.runner, args.processes
    )
    rounds = {"baseline": [], "subject": []}
    try:
        for _ in range(args.rounds):
            rounds["baseline"].append(figures(baseline.batch(args.arrivals)))
            rounds["subject"].append(figures(subject.batch(args.arrivals)))
    finally:
        subject.close()
        baseline.close()
    print(
        f"waiting: {args.waiting}, watchers: {args.watchers} sockets of {args.staff}"
        f" practitioners, {args.rounds} rounds of {args.arrivals} arrivals,"
        f" processes: {args.processes}, {stack(args)}"
    )
    for name in rounds["baseline"][0]:
        base = [r[name] for r in rounds["baseline"]]
        real = [r[name] for r in rounds["subject"]]
        print(f"{name:10}  trivial message over the bus (baseline): {spread(base)}")
        print(f"{'':10}  arrival told to every watcher:            {spread(real)}")
        print(
            f"{'':10}  ratio of the medians {statistics.median(real) / statistics.median(base):.2f}"
        )
    real = statistics.median(r["p95 all"] for r in rounds["subject"])
    base = statistics.median(r["p95 all"] for r in rounds["baseline"])
    figure(
        f"waiting-room fan-out p95, {args.watchers} staff watching, {args.waiting} waiting",
        f"{real:.0f} ms ({real / base:.2f}×)",
        f"trivial fan-out, {base:.0f} ms",
        "< 100 ms",
        real < 100,
    )


if __name__ == "__main__":
    main()
