"""Pages that must not grow with the number of clients (issue 11): the
appointments list, the new-appointment form, the client search page and the
client search API (and the API's first page of clients, unsearched), with
``--small`` clients (the baseline) and with ``--clients`` (the subject).

Two applications (``pserve`` with the gevent-websocket runner, as in
production), each on its own fresh database (SQLite, or with ``--db`` a
fresh database on that PostgreSQL server), so that the large one's tables
and indexes really are large. Each has one organisation with an
administrator (who sees every client), the same 50 appointments and its
clients, bulk-inserted; in both exactly one client is called "Oosterhuis",
which the searches look for (by part of the name), so that both answer the
same one row. The databases are analysed after the load, as a live
database is (PostgreSQL's autovacuum does it within a minute). Each
measurement is the median latency of ``--requests`` GETs on one keep-alive
connection after one warm-up; baseline and subject take turns ``--rounds``
times, so that a slow moment of the machine hits both.
Printed per page: min/median/max over the rounds, the size of the answer,
and the ratio of the subject's median to the baseline's (goal: at most
1.5).

    .venv-test/bin/python benchmarks/data_growth.py [--clients 10000] [--small 10]
        [--rounds 3] [--requests 20]
        [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

import argparse
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert, text

from consultroom.accounts.models import Role, User
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client, new_token
from consultroom.db import utcnow
from consultroom.testing import password_hash

from figures import figure
from realtime_support import PASSWORD, AppServer, timed_gets

APPOINTMENTS = 50
CHUNK = 5000  # rows per INSERT
SOUGHT = "Oosterhuis"  # one client of this name in each database
SEARCH = "ooster"
# Every other client's last name: none contains SEARCH.
SURNAMES = ("Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer")
PAGES = {
    "appointments list": "/appointments",
    "new appointment": "/appointments/new",
    "client search page": f"/clients?q={SEARCH}",
    "client search API": f"/api/v1/clients?q={SEARCH}",
    # Not one of the goals: an unsearched page sorts the clients.
    # Ten per page, so that both answer as many.
    "client list API": "/api/v1/clients?limit=10",
}
# The goals: the pages it names, each at most this much slower with
# many clients; True for those whose HTML must not grow either (the list and
# form: no client in them but those shown).
CEILING = 1.5
GOALS = {
    "appointments list": True,
    "new appointment": True,
    "client search page": False,
    "client search API": False,
}


def fill(app, clients):
    """``clients`` clients (one of them SOUGHT), an administrator, and
    APPOINTMENTS appointments spread over the first clients; the
    administrator's session cookie and the organisation's API key."""
    org_id = app.org.id
    rows = []
    for n in range(clients):
        rows.append(
            {
                "organisation_id": org_id,
                "initials": "AB"[n % 2] + ".",
                "last_name": SOUGHT if n == clients // 2 else f"{SURNAMES[n % 8]} {n:05d}",
                "email": f"person{n}@example.test",
                "client_number": f"C{n:06d}",
                "language": "en",
                "portal_token": new_token(),
            }
        )
        if len(rows) == CHUNK or n == clients - 1:
            app.db.execute(insert(Client), rows)
            rows = []
    app.db.commit()
    first = [row.id for row in app.db.query(Client.id).order_by(Client.id).limit(APPOINTMENTS)]
    admin = app._save(
        User(
            organisation_id=org_id,
            role=Role.org_admin,
            name="Admin",
            email="admin@bench.example",
            password_hash=password_hash(PASSWORD),
        )
    )
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    app.db.execute(
        insert(Appointment),
        [
            {
                "organisation_id": org_id,
                "client_id": first[n % len(first)],
                "practitioner_id": admin.id,
                "starts_at": start + timedelta(hours=n),
                "duration_minutes": 30,
                "token": new_token(),
            }
            for n in range(APPOINTMENTS)
        ],
    )
    key = app.org.rotate_api_key()
    app.db.commit()
    # The planner's statistics, as autovacuum (PostgreSQL) would gather them
    # within a minute of the bulk load; a live database has them.
    app.db.execute(text("ANALYZE"))
    app.db.commit()
    return {"Cookie": app.log_in(admin)}, {"Authorization": f"Bearer {key}"}


def measure(app, headers, path, requests):
    """(median milliseconds of ``requests`` GETs of ``path`` after a warm-up, bytes)."""
    expected = SOUGHT.encode() if SEARCH in path else None
    latency, body = timed_gets(app.port, path, {"Host": app.host(), **headers}, requests, expected)
    return latency, len(body)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=10_000, help="the subject")
    parser.add_argument("--small", type=int, default=10, help="the baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="per measurement")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args(argv)
    sizes = {f"{args.small} clients": args.small, f"{args.clients} clients": args.clients}
    servers, credentials = {}, {}
    try:
        started = time.perf_counter()
        for name, count in sizes.items():
            servers[name] = AppServer(db=args.db)
            credentials[name] = fill(servers[name], count)
        print(f"databases filled in {time.perf_counter() - started:.1f} s")
        results = {(page, name): [] for page in PAGES for name in sizes}
        answer_bytes = {}
        for _ in range(args.rounds):
            for page, path in PAGES.items():
                for name, server in servers.items():
                    session, api_key = credentials[name]
                    headers = api_key if path.startswith("/api/") else session
                    latency, answer_bytes[page, name] = measure(
                        server, headers, path, args.requests
                    )
                    results[page, name].append(latency)
    finally:
        for server in servers.values():
            server.stop()
    database = "PostgreSQL" if args.db else "SQLite"
    print(f"{args.rounds} rounds, median of {args.requests} requests each, {database}")
    baseline, subject = sizes
    for page in PAGES:
        for name in sizes:
            times = results[page, name]
            print(
                f"{page:19} {name:>14}  min {min(times):7.2f} ms  median"
                f" {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms"
                f"  {answer_bytes[page, name]:7d} bytes"
            )
        ratio = statistics.median(results[page, subject]) / statistics.median(
            results[page, baseline]
        )
        print(f"{page:19} ratio {subject} / {baseline}: {ratio:.2f}")
        if page in GOALS:
            report(page, ratio, results, answer_bytes, sizes)


def report(page, ratio, results, answer_bytes, sizes):
    """``page``'s line in benchmarks/run's table; a page whose HTML must not
    grow may be 1% larger (longer ids and numbers), no more."""
    baseline, subject = sizes
    grows = GOALS[page] and answer_bytes[page, subject] > answer_bytes[page, baseline] * 1.01
    figure(
        f"{page}, {sizes[baseline]} → {sizes[subject]:,} clients",
        f"{ratio:.2f}× ({statistics.median(results[page, subject]):.1f} ms,"
        f" {answer_bytes[page, subject]:,} bytes)",
        f"{statistics.median(results[page, baseline]):.1f} ms,"
        f" {answer_bytes[page, baseline]:,} bytes with {sizes[baseline]} clients",
        f"≤ {CEILING}×" + (", HTML not larger" if GOALS[page] else ""),
        ratio <= CEILING and not grows,
    )


if __name__ == "__main__":
    main()
