"""Requests per second and latency of plain HTTP requests, against a bare
Pyramid "hello" application (``hello_app.py``) on the same stack.

Two requests of the application are measured: the anonymous login page and
the tenant-scoped JSON list ``/api/v1/appointments`` with the organisation's
API key (50 appointments); and, for comparison, both on the bare stack
(``floor_app.py``: what each must do, with Pyramid, pyramid_tm and
SQLAlchemy, and no application), the least this stack allows them. Every
server runs in its own process with
``pserve`` and the gevent-websocket runner, as in production (the
application on a fresh SQLite database or, with ``--db``, a fresh database on
that PostgreSQL server). The load comes from ``--clients`` processes, each
with one keep-alive connection (http.client, loopback), sending requests one
after another for ``--seconds``. Baseline and subjects take turns
``--rounds`` times, so that a slow moment of the machine hits all of them;
min/median/max of the rounds are printed, and the ratio of the medians to
the baseline's.

    .venv-test/bin/python benchmarks/request_cost.py [--seconds 5] [--rounds 3]
        [--clients 4] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from consultroom.testing import free_port, stop_process, wait_for_port

from figures import figure
from realtime_support import HERE, AppServer, percentile, server_command

APPOINTMENTS = 50
BASELINE = "bare Pyramid hello (baseline)"
GUNICORN = "bare Pyramid hello on gunicorn"
LOGIN = "login page (anonymous)"
API_LIST = "GET /api/v1/appointments (API key)"
# The same requests on the bare stack (floor_app.py): the least it allows.
FLOORS = {API_LIST: "API list on the bare stack (floor)", LOGIN: "login page, bare stack (floor)"}
GOALS = {API_LIST: 0.2, LOGIN: 0.4}


class BareServer:
    """A bare application of this folder (``hello_app.py``, ``floor_app.py``)
    served by pserve with the gevent-websocket runner or by gunicorn with
    Consultroom's worker (production.ini's choice); ``settings`` go into its
    ini file."""

    def __init__(self, tmp, app="hello_app", runner="pserve", **settings):
        self.port = free_port()
        ini = tmp / f"{app}-{runner}.ini"
        lines = [f"{k} = {v}" for k, v in settings.items()]
        ini.write_text(
            "\n".join(["[app:main]", f"use = call:{app}:main", *lines, ""])
            + "\n[server:main]\nuse = egg:consultroom#gevent_websocket\nhost = 127.0.0.1\n"
            f"port = {self.port}\n"
        )
        command = server_command(ini, self.port, runner)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
        log = (tmp / f"{app}-{runner}.log").open("w")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process)

    def stop(self):
        stop_process(self.process)


def _client(port, path, headers, start_at, stop_at):
    """One keep-alive connection's latencies (seconds) between the two times,
    and the time its last request ended.

    A connection measures at least one request, however late: on a loaded
    machine a short window can close before the first request answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    while True:
        started = time.perf_counter()
        now = time.time()
        if now >= stop_at and latencies:
            break
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        if now >= start_at:  # earlier requests warm the connection up
            latencies.append(time.perf_counter() - started)
    connection.close()
    return latencies, time.time()


def run(pool, clients, seconds, port, path, headers):
    """(requests/s, p50 ms, p99 ms) of ``clients`` connections for ``seconds``.

    The connections start together after a lead in which they warm up: half
    a second, or the measurement's length if that is shorter (the smoke
    test's tenth of a second would otherwise spend most of its CPU there)."""
    start_at = time.time() + min(0.5, seconds)
    futures = [
        pool.submit(_client, port, path, headers, start_at, start_at + seconds)
        for _ in range(clients)
    ]
    results = [f.result() for f in futures]
    latencies = [t for measured, _ in results for t in measured]
    elapsed = max(ended for _, ended in results) - start_at
    return (
        len(latencies) / elapsed,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
    )


def subjects(app):
    """name -> (port, path, headers) of the requests to measure."""
    key = app.org.rotate_api_key()
    app.db.commit()
    practitioner = app.staff()
    for _ in range(APPOINTMENTS):
        app.appointment(practitioner)
    host = {"Host": app.host()}
    return {
        LOGIN: (app.port, "/login", host),
        API_LIST: (
            app.port,
            "/api/v1/appointments",
            {**host, "Authorization": f"Bearer {key}"},
        ),
    }


def summary(name, results, baseline_rps=None):
    rates = [r[0] for r in results]
    rps = statistics.median(rates)
    line = (
        f"{name:36} req/s min {min(rates):7.0f} median {rps:7.0f} max {max(rates):7.0f}"
        f"   p50 {statistics.median(r[1] for r in results):6.2f} ms"
        f"   p99 {statistics.median(r[2] for r in results):6.2f} ms"
    )
    if baseline_rps is not None:
        line += f"   ratio {rps / baseline_rps:.3f}"
    print(line)
    return rps


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4, help="load processes")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args(argv)
    app = AppServer(db=args.db)
    hello = BareServer(app.tmp)
    hello_gunicorn = BareServer(app.tmp, runner="gunicorn")
    floor = BareServer(
        app.tmp,
        "floor_app",
        **{"sqlalchemy.url": app.db_url, "session.secret": app.settings["session.secret"]},
    )
    try:
        measured = {
            BASELINE: (hello.port, "/", {}),
            GUNICORN: (hello_gunicorn.port, "/", {}),
        }
        measured.update(subjects(app))
        for name, floor_name in FLOORS.items():
            _port, path, headers = measured[name]
            measured[floor_name] = (floor.port, path, headers)
        results = {name: [] for name in measured}
        with ProcessPoolExecutor(args.clients) as pool:
            for target in measured.values():  # warm-up
                run(pool, args.clients, min(1.0, args.seconds), *target)
            for _ in range(args.rounds):
                for name, target in measured.items():
                    results[name].append(run(pool, args.clients, args.seconds, *target))
    finally:
        hello.stop()
        hello_gunicorn.stop()
        floor.stop()
        app.stop()
    print(f"{args.clients} keep-alive clients, {args.rounds} rounds of {args.seconds} s")
    baseline_name, *names = results
    baseline_rps = summary(baseline_name, results[baseline_name])
    rps = {name: summary(name, results[name], baseline_rps) for name in names}
    hello_rps = f"bare Pyramid hello on pserve, {baseline_rps:,.0f} req/s"
    for name, goal in GOALS.items():
        ratio = rps[name] / baseline_rps
        measured = f"{ratio:.3f}× ({rps[name]:,.0f} req/s)"
        # What the stack alone allows the request: the goal's context.
        context = (
            f"; the same on the bare stack (floor_app.py): {rps[FLOORS[name]] / baseline_rps:.3f}×"
        )
        figure(name, measured, hello_rps + context, f"≥ {goal}×", ratio >= goal)
    # The runner adds nothing: pserve serves the hello as fast as gunicorn.
    ratio = baseline_rps / rps[GUNICORN]
    figure(
        "`pserve` runner (bare hello)",
        f"{ratio:.2f}× ({baseline_rps:,.0f} req/s)",
        f"the same hello on gunicorn, {rps[GUNICORN]:,.0f} req/s",
        "≥ 0.9×",
        ratio >= 0.9,
    )


if __name__ == "__main__":
    main()
