"""Waiting-room fan-out with 500 staff sockets watching.

The staff of one department (``--staff`` practitioners, ``--watchers``
sockets spread over them) watch the department's waiting list. A client of
the department arrives (says hello on the websocket of their link); measured
is the time from that hello until each watching socket has a waiting list
that contains the new client: per arrival the p95 over the watchers, over
``--arrivals`` arrivals the median and worst of those p95s, and p50/p95 of
all deliveries.

The baseline, measured in the same run, is a fan-out of a trivial message
over the same bus (``consultroom.realtime.bus``) to as many sockets of a plain
gevent-websocket server (no application, no database): what is left is the
cost of building each watcher's list.

    .venv-test/bin/python benchmarks/waiting_fanout.py [--watchers 500] [--staff 10]
        [--arrivals 20] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
        [--bus memory|redis]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import gevent.event  # noqa: E402

from realtime_support import AppServer, BaselineServer, Crowd, percentile, raise_open_files_limit  # noqa: E402

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


def baseline(watchers, arrivals, bus):
    server = BaselineServer(bus)
    rounds = Rounds(watchers)
    crowd = Crowd(lambda: server.socket("/fanout"), watchers, rounds.on_message)
    sender = server.socket("/fanout")
    try:
        results = []
        for n in range(arrivals):
            rounds.expect(lambda m, n=n: m.get("n") == n)
            sender.send({"type": "bench", "n": n})
            results.append(rounds.wait())
        return results
    finally:
        sender.close()
        crowd.close()
        server.stop()


def _lists(appointment_id):
    return lambda m: (
        m.get("type") == "waiting_list"
        and any(e.get("appointment_id") == appointment_id for e in m.get("entries", ()))
    )


def waiting_room(watchers, staff, arrivals, db, bus):
    app = AppServer(db=db, **{"realtime.bus": bus})
    try:
        department = app.department()
        cookies = [app.log_in(app.staff(f"Practitioner {n}", department)) for n in range(staff)]
        appointments = [app.appointment(department=department) for _ in range(arrivals)]
        rounds = Rounds(watchers)
        users = iter(range(watchers))
        crowd = Crowd(
            lambda: app.staff_socket(cookies[next(users) % staff])[0], watchers, rounds.on_message
        )
        clients = []
        results = []
        for appointment in appointments:
            sock = app.raw_socket()
            rounds.expect(_lists(appointment.id))
            sock.send({"type": "hello", "role": "client", "token": appointment.token})
            results.append(rounds.wait())
            clients.append(sock)
        for sock in clients:
            sock.close()
        crowd.close()
        return results
    finally:
        app.stop()


def summary(results):
    p95s = [percentile(r, 95) for r in results]
    every = [t for r in results for t in r]
    return {
        "median p95": statistics.median(p95s),
        "worst p95": max(p95s),
        "p50 all": percentile(every, 50),
        "p95 all": percentile(every, 95),
    }


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=500, help="staff sockets watching")
    parser.add_argument("--staff", type=int, default=10, help="practitioners they belong to")
    parser.add_argument("--arrivals", type=int, default=20)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="memory", choices=["memory", "redis"])
    args = parser.parse_args(argv)
    raise_open_files_limit()
    base = summary(baseline(args.watchers, args.arrivals, args.bus))
    real = summary(waiting_room(args.watchers, args.staff, args.arrivals, args.db, args.bus))
    print(
        f"watchers: {args.watchers} sockets of {args.staff} practitioners, arrivals:"
        f" {args.arrivals}, bus: {args.bus}, database: {'PostgreSQL' if args.db else 'SQLite'}"
    )
    for name in base:
        print(
            f"{name:10}: trivial message over the bus (baseline) {base[name]:8.2f} ms"
            f"   arrival to every waiting list {real[name]:8.2f} ms"
            f"   ratio {real[name] / base[name]:.2f}"
        )


if __name__ == "__main__":
    main()
