"""Sockets per process and memory per socket.

Opens ``--sockets`` authenticated staff websockets on one application
process and reads the process's resident memory (RSS, /proc) before and
after; then every socket sends a ping and must get its pong (all still
served). The baseline, measured in the same run, is the same number of
sockets on a plain gevent-websocket echo server (no application). The
figure "sockets per GB" extrapolates the per-socket memory.

    .venv-test/bin/python benchmarks/sockets_memory.py [--sockets 1000]
        [--db postgresql+psycopg://root@127.0.0.1:5432/postgres] [--bus memory|redis]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from realtime_support import AppServer, BaselineServer, Crowd, raise_open_files_limit, rss_kb  # noqa: E402

SETTLE_SECONDS = 1.0


def answered(count, replies, timeout=60):
    """How many of the ``count`` sockets have their answer (``replies``, a set of indexes)."""
    deadline = time.monotonic() + timeout
    while len(replies) < count and time.monotonic() < deadline:
        gevent.sleep(0.05)
    return len(replies)


def measure(pid, open_socket, count, ping, is_reply):
    """(KB before, KB after, sockets that answered) for ``count`` sockets."""
    open_socket().close()  # lazy imports and first-request work out of the way
    gevent.sleep(SETTLE_SECONDS)
    before = rss_kb(pid)
    replies = set()

    def on_message(index, message, when):
        if is_reply(message):
            replies.add(index)

    crowd = Crowd(open_socket, count, on_message)
    gevent.sleep(SETTLE_SECONDS)
    after = rss_kb(pid)
    for sock in crowd.sockets:
        sock.send(ping)
    alive = answered(count, replies)
    crowd.close()
    return before, after, alive


def report(name, count, before, after, alive):
    per_socket = (after - before) / count
    print(
        f"{name:32} {count} sockets ({alive} answered): RSS {before / 1024:6.1f} ->"
        f" {after / 1024:6.1f} MB, {per_socket:6.1f} KB per socket,"
        f" {1024 * 1024 / max(per_socket, 0.1):8.0f} sockets per GB"
    )
    return per_socket


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="memory", choices=["memory", "redis"])
    args = parser.parse_args(argv)
    raise_open_files_limit()

    server = BaselineServer()
    try:
        base = measure(
            server.process.pid,
            lambda: server.socket("/echo"),
            args.sockets,
            {"type": "probe"},
            lambda m: m.get("type") == "probe",
        )
    finally:
        server.stop()

    app = AppServer(db=args.db, **{"realtime.bus": args.bus})
    try:
        cookie = app.log_in(app.staff())
        real = measure(
            app.pid,
            lambda: app.staff_socket(cookie)[0],
            args.sockets,
            {"type": "ping"},
            lambda m: m.get("type") == "pong",
        )
    finally:
        app.stop()

    base_kb = report("plain websocket echo (baseline)", args.sockets, *base)
    real_kb = report("application, staff sockets", args.sockets, *real)
    print(f"memory per socket: ratio {real_kb / max(base_kb, 0.1):.2f}")
    if min(base[2], real[2]) < args.sockets:
        raise SystemExit("some sockets did not answer")


if __name__ == "__main__":
    main()
