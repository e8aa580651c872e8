"""Signalling relay latency, with 1,000 idle sockets connected.

A practitioner and a client in a consultation room: the practitioner's
socket sends ICE candidates (``signal`` messages) to the client's, one at a
time, and the time until the client's socket has it is measured (both
sockets are in this process: one clock). Two pairs are measured: both peers
on the same application process, and the client on a second process (the
signal crosses the Redis bus). The baseline is a plain gevent-websocket echo
server (no application) with the same number of idle sockets: its round
trip client -> server -> client is the same path as a relay from one client
through the server to another. With the Redis bus, the relay across two
processes is also measured on the bare stack, for comparison: two plain
gevent-websocket servers (``baseline_server.py``'s ``/relay``) that
publish and receive with bare redis-py, the least such a relay does.

The application runs as in production: gunicorn with gevent-websocket's
worker (or ``--runner pserve``), the Redis bus, on a fresh SQLite database
or, with ``--db``, a fresh database on that PostgreSQL server; two
processes of one worker each, ``--idle`` idle staff sockets on each. Baseline
and the two pairs take turns ``--rounds`` times; printed are min/median/max
of each round's p50 and p99, and the ratio of the medians to the baseline's.

    .venv-test/bin/python benchmarks/signalling_latency.py [--idle 1000] [--messages 2000]
        [--rounds 3] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
        [--bus redis|memory] [--runner gunicorn|pserve]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from figures import figure  # noqa: E402
from realtime_support import (  # noqa: E402
    AppServer,
    BaselineServer,
    Crowd,
    call_in,
    percentile,
    raise_open_files_limit,
    spread,
    stack,
    waiting_visit,
)

CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}
WARM_UP = 50
FLOOR = "bare redis-py relay, two processes"


def timed(send, receive, count, settle=None):
    """Milliseconds from each ``send()`` to its ``receive()``, after a
    warm-up; ``settle()``, when given, runs before each send, untimed."""
    times = []
    for n in range(WARM_UP + count):
        if settle is not None:
            settle()
        started = time.perf_counter()
        send()
        receive()
        if n >= WARM_UP:
            times.append((time.perf_counter() - started) * 1000)
    return times


def echo(server):
    """The baseline's measurement: one echo socket's round trips."""
    sock = server.socket("/echo")
    message = {"type": "signal", "data": CANDIDATE}
    return lambda count: timed(lambda: sock.send(message), sock.receive, count)


def relay(app, staff_port, client_port):
    """A room with the practitioner on ``staff_port`` and the client on
    ``client_port``: the relay's measurement."""
    practitioner = app.staff()
    staff_sock, _ = app.staff_socket(app.log_in(practitioner, staff_port), staff_port)
    appointment = app.appointment(practitioner=practitioner)
    client_sock, _ = app.client_socket(appointment, client_port)
    visit = waiting_visit(client_sock)
    _, client_peer = call_in(staff_sock, client_sock, visit)
    signal = {"type": "signal", "to": client_peer, "data": {"candidate": CANDIDATE}}
    return relayed(staff_sock, client_sock, signal, "signal")


def relayed(sender, receiver, message, answer=None, settle=None):
    """A measurement: ``message`` sent by ``sender`` until ``receiver`` has
    the message of type ``answer``, or any message (``settle``: see
    ``timed``)."""
    return lambda count: timed(
        lambda: sender.send(message),
        lambda: receiver.receive_until(lambda m: answer is None or m["type"] == answer),
        count,
        settle,
    )


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets per process")
    parser.add_argument("--messages", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--bus", default="redis", choices=["memory", "redis"])
    parser.add_argument("--runner", default="gunicorn", choices=["gunicorn", "pserve"])
    args = parser.parse_args(argv)
    raise_open_files_limit()

    app = AppServer(db=args.db, runner=args.runner, **{"realtime.bus": args.bus})
    redis_url = app.settings.get("redis.url") if args.bus == "redis" else None
    baselines = []  # the echo's server, and the relay floor's other end
    crowds = []
    try:
        baseline = BaselineServer(relay_redis=redis_url)
        baselines.append(baseline)
        crowds.append(Crowd(lambda: baseline.socket("/echo"), args.idle))
        measure = {"plain websocket echo (baseline)": echo(baseline)}
        if redis_url:
            other = BaselineServer(relay_redis=redis_url)
            baselines.append(other)
            crowds.append(Crowd(lambda: other.socket("/echo"), args.idle))
            measure[FLOOR] = relayed(baseline.socket("/relay"), other.socket("/relay"), CANDIDATE)
        first = app.port
        second = app.start_process() if args.bus == "redis" else first
        cookie = app.log_in(app.staff(name="Idle"))
        for port in dict.fromkeys((first, second)):
            crowds.append(Crowd(lambda port=port: app.staff_socket(cookie, port)[0], args.idle))
        measure["relay, peers on one process"] = relay(app, first, first)
        if second != first:
            measure["relay, peers on two processes"] = relay(app, first, second)
        results = {name: [] for name in measure}
        for _ in range(args.rounds):
            for name, run in measure.items():
                times = run(args.messages)
                results[name].append((percentile(times, 50), percentile(times, 99)))
    finally:
        for crowd in crowds:
            crowd.close()
        app.stop()
        for server in baselines:
            server.stop()

    print(
        f"idle sockets: {args.idle} per process, {args.rounds} rounds of {args.messages}"
        f" messages, {stack(args)}"
    )
    medians = {
        name: (
            statistics.median(r[0] for r in rounds),
            statistics.median(r[1] for r in rounds),
        )
        for name, rounds in results.items()
    }
    base_name, *names = results
    base = medians[base_name]
    print(_line(base_name, results[base_name]))
    echo_text = f"raw websocket echo: p50 {base[0]:.3f} ms, p99 {base[1]:.3f} ms"
    for name in names:
        (p50, p99), ratios = medians[name], (medians[name][0] / base[0], medians[name][1] / base[1])
        print(_line(name, results[name]) + f" | ratio p50 {ratios[0]:.2f} p99 {ratios[1]:.2f}")
        if name == FLOOR:  # the bare stack's, for comparison: no goal of its own
            continue
        baseline = echo_text
        if FLOOR in medians and name.endswith("two processes"):
            floor = medians[FLOOR]
            baseline += f"; {FLOOR}: p50 {floor[0] / base[0]:.2f}×, p99 {floor[1] / base[1]:.2f}×"
        figure(
            f"signalling {name}, {args.idle:,} idle sockets per process, {args.bus} bus",
            f"p50 {ratios[0]:.2f}× ({p50:.3f} ms), p99 {ratios[1]:.2f}× ({p99:.3f} ms)",
            baseline,
            "p50 ≤ 2×, p99 ≤ 3×",
            ratios[0] <= 2 and ratios[1] <= 3,
        )


def _line(name, rounds):
    return (
        f"{name:34} p50 {spread([r[0] for r in rounds], ' ms', 3)}"
        f" | p99 {spread([r[1] for r in rounds], ' ms', 3)}"
    )


if __name__ == "__main__":
    main()
