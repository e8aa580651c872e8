"""Memory per socket, with ``--sockets`` authenticated sockets held open.

Opens ``--sockets`` authenticated staff websockets on the application and
reads the resident memory (RSS, /proc) of the processes that serve them
before and after; holds them ``--hold`` seconds answering the server's pings
and counts the sockets the server dropped meanwhile; then every socket sends
a ping and must get its pong (all still served). The baseline is the same
number of sockets on a plain gevent-websocket echo server (no application).
Each round starts fresh servers; baseline and application take turns
``--rounds`` times, and min/median/max of the rounds are printed with the
ratio of the medians. "Sockets per GB" extrapolates the per-socket memory.

The application runs as in production: gunicorn with gevent-websocket's
worker and ``--workers`` workers (or ``--runner pserve``), the Redis bus,
on a fresh SQLite database or, with ``--db``, on that PostgreSQL server.

    .venv-test/bin/python benchmarks/sockets_memory.py [--sockets 2000] [--hold 60]
        [--rounds 3] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
        [--bus redis|memory] [--runner gunicorn|pserve] [--workers 4]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

from figures import figure  # noqa: E402
from realtime_support import (  # noqa: E402
    AppServer,
    BaselineServer,
    Crowd,
    raise_open_files_limit,
    rss_kb,
    spread,
    stack,
)

SETTLE_SECONDS = 1.0
WARM_UP = 50  # sockets opened and closed first: every worker's first-socket work done


def answered(count, replies, timeout=60):
    """How many of the ``count`` sockets have their answer (``replies``, a set of indexes)."""
    deadline = time.monotonic() + timeout
    while len(replies) < count and time.monotonic() < deadline:
        gevent.sleep(0.05)
    return len(replies)


def measure(pids, open_socket, count, hold, ping, is_reply):
    """KB per socket when opened and after the hold, sockets dropped during
    the hold, and sockets that answered after it."""
    rss = lambda: sum(rss_kb(pid) for pid in pids())  # noqa: E731
    Crowd(open_socket, WARM_UP).close()
    gevent.sleep(SETTLE_SECONDS)
    before = rss()
    replies = set()

    def on_message(index, message, when):
        if is_reply(message):
            replies.add(index)

    crowd = Crowd(open_socket, count, on_message)
    gevent.sleep(SETTLE_SECONDS)
    opened = rss()
    gevent.sleep(hold)
    held = rss()
    dropped = len(crowd.dropped)
    for index, sock in enumerate(crowd.sockets):
        try:
            sock.send(ping)
        except (websocket.WebSocketException, OSError):
            crowd.dropped.add(index)
    alive = answered(count - len(crowd.dropped), replies)
    crowd.close()
    return (opened - before) / count, (held - before) / count, dropped, alive


def baseline_round(args):
    server = BaselineServer()
    try:
        return measure(
            lambda: [server.process.pid],
            lambda: server.socket("/echo"),
            args.sockets,
            args.hold,
            {"type": "probe"},
            lambda m: m.get("type") == "probe",
        )
    finally:
        server.stop()


def app_round(app, cookie, args):
    return measure(
        app.serving_pids,
        lambda: app.staff_socket(cookie)[0],
        args.sockets,
        args.hold,
        {"type": "ping"},
        lambda m: m.get("type") == "pong",
    )


def report(name, rounds, base=None):
    opened = [r[0] for r in rounds]
    held = [r[1] for r in rounds]
    per_socket = statistics.median(held)
    line = (
        f"{name:32} KB per socket opened {spread(opened, '', 1)}"
        f" | after the hold {spread(held, '', 1)}"
        f" ({1024 * 1024 / max(per_socket, 0.1):.0f} sockets per GB)"
        f" | dropped {[r[2] for r in rounds]} | answered {[r[3] for r in rounds]}"
    )
    if base is not None:
        line += f" | ratio {per_socket / max(base, 0.1):.2f}"
    print(line)
    return per_socket


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=60, help="seconds the sockets stay open")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="redis", choices=["memory", "redis"])
    parser.add_argument("--runner", default="gunicorn", choices=["gunicorn", "pserve"])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn's workers")
    args = parser.parse_args(argv)
    raise_open_files_limit()

    app = AppServer(
        db=args.db, runner=args.runner, workers=args.workers, **{"realtime.bus": args.bus}
    )
    results = {"baseline": [], "app": []}
    try:
        cookie = app.log_in(app.staff())
        app.stop_processes()
        for _ in range(args.rounds):
            results["baseline"].append(baseline_round(args))
            app.start_process()
            try:
                results["app"].append(app_round(app, cookie, args))
            finally:
                app.stop_processes()
    finally:
        app.stop()

    print(f"{args.sockets} sockets held {args.hold:.0f} s, {args.rounds} rounds, {stack(args)}")
    base = report("plain websocket echo (baseline)", results["baseline"])
    real = report("application, staff sockets", results["app"], base)
    dropped = sum(r[2] for r in results["app"])
    figure(
        f"memory per authenticated socket, {args.sockets:,} held {args.hold:.0f} s",
        f"{real:.1f} KiB ({real / max(base, 0.1):.2f}×), {dropped} dropped",
        f"raw websocket echo: {base:.1f} KiB",
        "≤ 50 KiB, none dropped",
        real <= 50 and not dropped,
    )
    if any(r[2] or r[3] < args.sockets for rounds in results.values() for r in rounds):
        raise SystemExit("some sockets were dropped or did not answer")


if __name__ == "__main__":
    main()
