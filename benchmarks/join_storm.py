"""Join storm: ``--clients`` waiting-room clients arrive within ``--seconds``.

Every client opens its link's websocket, says hello and waits for its
``waiting`` message (it sees its place in the waiting room); measured is the
time from opening the socket until then, and counted are the clients that
were refused (an error or a close instead, or no connection). The clients
start at even intervals over ``--seconds`` and stay connected until the
storm is over; ``--staff`` practitioners, one watching socket each, share
the appointments, so every arrival also reaches a waiting list.

The baseline is the same storm against a plain gevent-websocket echo server
(no application): open, send the hello, get it back. Baseline and
application take turns ``--rounds`` times (fresh appointments each round);
printed are min/median/max of the rounds and the ratio of the medians.

The application runs as in production: gunicorn with gevent-websocket's
worker and ``--workers`` workers (or ``--runner pserve``), the Redis bus, on
a fresh SQLite database or, with ``--db``, on that PostgreSQL server.

    .venv-test/bin/python benchmarks/join_storm.py [--clients 500] [--seconds 10]
        [--rounds 3] [--staff 10] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
        [--bus redis|memory] [--runner gunicorn|pserve] [--workers 4]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

from figures import figure  # noqa: E402
from realtime_support import (  # noqa: E402
    AppServer,
    BaselineServer,
    Crowd,
    percentile,
    raise_open_files_limit,
    spread,
    stack,
)

SETTLE_SECONDS = 3.0  # between storms: the last one's departures are handled


def storm(count, seconds, arrive):
    """Start ``arrive(index)`` at even intervals over ``seconds``; each
    returns (None, socket) when accepted, else (why, socket or None).
    Returns the times of the accepted ones and why the others were refused."""
    started = time.perf_counter()

    def client(index):
        gevent.sleep(max(0.0, started + index * seconds / count - time.perf_counter()))
        opened = time.perf_counter()
        try:
            refused, sock = arrive(index)
        except (websocket.WebSocketException, OSError, ValueError) as exc:
            return type(exc).__name__, None, None
        return refused, (time.perf_counter() - opened) * 1000, sock

    results = [g.get() for g in gevent.joinall([gevent.spawn(client, i) for i in range(count)])]
    for _refused, _ms, sock in results:
        if sock is not None:
            sock.close()
    times = [ms for refused, ms, _sock in results if refused is None]
    return times, Counter(refused for refused, _ms, _sock in results if refused is not None)


def echo_arrival(server):
    def arrive(index):
        sock = server.socket("/echo")
        sock.send({"type": "hello", "role": "client", "token": f"t{index}"})
        answer = sock.receive()["type"]
        return (None if answer == "hello" else answer), sock

    return arrive


def client_arrival(app, appointments):
    def arrive(index):
        sock = app.raw_socket()
        sock.send({"type": "hello", "role": "client", "token": appointments[index].token})
        first = sock.receive_until(lambda m: m["type"] in ("waiting", "error", "admitted"))
        refused = f"{first['type']} {first.get('message', '')}".strip()
        return (None if first["type"] == "waiting" else refused), sock

    return arrive


def report(name, rounds, base=None):
    p50 = [percentile(times, 50) if times else float("inf") for times, _ in rounds]
    p95 = [percentile(times, 95) if times else float("inf") for times, _ in rounds]
    why = sum((refused for _, refused in rounds), Counter())
    line = (
        f"{name:32} refused {[refused.total() for _, refused in rounds]}"
        f" | p50 {spread(p50, ' ms', 1)} | p95 {spread(p95, ' ms', 1)}"
    )
    if base is not None:
        line += f" | ratio p95 {statistics.median(p95) / base:.2f}"
    print(line + "".join(f"\n    refused {n}×: {reason}" for reason, n in why.most_common()))
    return statistics.median(p95)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10, help="the storm's length")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--staff", type=int, default=10, help="practitioners watching")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="redis", choices=["memory", "redis"])
    parser.add_argument("--runner", default="gunicorn", choices=["gunicorn", "pserve"])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn's workers")
    args = parser.parse_args(argv)
    raise_open_files_limit()

    baseline = BaselineServer()
    app = AppServer(
        db=args.db, runner=args.runner, workers=args.workers, **{"realtime.bus": args.bus}
    )
    results = {"baseline": [], "app": []}
    watchers = None
    try:
        staff = [app.staff(name=f"Dr. {n}") for n in range(args.staff)]
        cookies = [app.log_in(practitioner) for practitioner in staff]
        logged_in = iter(cookies)
        watchers = Crowd(lambda: app.staff_socket(next(logged_in))[0], len(cookies))
        for _ in range(args.rounds):
            appointments = [
                app.appointment(practitioner=staff[n % len(staff)]) for n in range(args.clients)
            ]
            results["baseline"].append(storm(args.clients, args.seconds, echo_arrival(baseline)))
            gevent.sleep(SETTLE_SECONDS)
            results["app"].append(
                storm(args.clients, args.seconds, client_arrival(app, appointments))
            )
            gevent.sleep(SETTLE_SECONDS)
    finally:
        if watchers is not None:
            watchers.close()
        app.stop()
        baseline.stop()

    print(
        f"{args.clients} clients in {args.seconds:.0f} s, {args.staff} practitioners watching,"
        f" {args.rounds} rounds, {stack(args)}"
    )
    base = report("plain websocket echo (baseline)", results["baseline"])
    real = report("application, clients' hello", results["app"], base)
    refused = [refused.total() for _, refused in results["app"]]
    figure(
        f"join storm, {args.clients} clients in {args.seconds:.0f} s",
        f"refused {refused} in {args.rounds} rounds, p95 {real:.0f} ms",
        f"echo: refused {[r.total() for _, r in results['baseline']]}, p95 {base:.0f} ms",
        "0 refused, p95 < 300 ms",
        not any(refused) and real < 300,
    )


if __name__ == "__main__":
    main()
