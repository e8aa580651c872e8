"""Signalling relay latency, with 1,000 idle sockets connected.

A practitioner and a client in a consultation room: the practitioner's
socket sends ICE candidates (``signal`` messages) to the client's, one at a
time, and the time until the client's socket has it is measured (both
sockets are in this process: one clock). The baseline, measured in the same
run, is a plain gevent-websocket echo server (no application) with the same
number of idle sockets: its round trip client -> server -> client is the
same path as a relay from one client through the server to another.

Both servers run in their own process (the application with its real server
runner, ``pserve`` and the gevent-websocket worker, on a fresh SQLite
database or, with ``--db``, a fresh database on that PostgreSQL server).

    .venv-test/bin/python benchmarks/signalling_latency.py [--idle 1000] [--messages 2000]
        [--db postgresql+psycopg://root@127.0.0.1:5432/postgres] [--bus memory|redis]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import time  # noqa: E402

from realtime_support import (  # noqa: E402
    AppServer,
    BaselineServer,
    Crowd,
    call_in,
    percentile,
    raise_open_files_limit,
    waiting_visit,
)

CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}
WARM_UP = 50


def timed(send, receive, count):
    """Milliseconds from each ``send()`` to its ``receive()``, after a warm-up."""
    times = []
    for n in range(WARM_UP + count):
        started = time.perf_counter()
        send()
        receive()
        if n >= WARM_UP:
            times.append((time.perf_counter() - started) * 1000)
    return times


def baseline(idle, messages):
    server = BaselineServer()
    try:
        crowd = Crowd(lambda: server.socket("/echo"), idle)
        sock = server.socket("/echo")
        times = timed(
            lambda: sock.send({"type": "signal", "data": CANDIDATE}), sock.receive, messages
        )
        sock.close()
        crowd.close()
        return times
    finally:
        server.stop()


def relay(idle, messages, db, bus):
    app = AppServer(db=db, **{"realtime.bus": bus})
    try:
        practitioner = app.staff()
        cookie = app.log_in(practitioner)
        crowd = Crowd(lambda: app.staff_socket(cookie)[0], idle)
        staff_sock, _ = app.staff_socket(cookie)
        client_sock, _ = app.client_socket(app.appointment(practitioner=practitioner))
        visit = waiting_visit(client_sock)
        _, client_peer = call_in(staff_sock, client_sock, visit)
        signal = {"type": "signal", "to": client_peer, "data": {"candidate": CANDIDATE}}
        times = timed(
            lambda: staff_sock.send(signal),
            lambda: client_sock.receive_until(lambda m: m["type"] == "signal"),
            messages,
        )
        staff_sock.close()
        client_sock.close()
        crowd.close()
        return times
    finally:
        app.stop()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets connected")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="memory", choices=["memory", "redis"])
    args = parser.parse_args(argv)
    raise_open_files_limit()
    base = baseline(args.idle, args.messages)
    real = relay(args.idle, args.messages, args.db, args.bus)
    print(
        f"idle sockets: {args.idle}, messages: {args.messages}, bus: {args.bus},"
        f" database: {'PostgreSQL' if args.db else 'SQLite'}"
    )
    for p in (50, 99):
        b, r = percentile(base, p), percentile(real, p)
        print(
            f"p{p}: plain websocket echo (baseline) {b:7.3f} ms   signalling relay {r:7.3f} ms"
            f"   ratio {r / b:.2f}"
        )


if __name__ == "__main__":
    main()
