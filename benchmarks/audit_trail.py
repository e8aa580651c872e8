"""The organisation admin's audit trail page with a short and a long trail:
its cost must not grow with the trail's length (issue 11).

One application (``pserve`` with the gevent-websocket runner, as in
production) on a fresh SQLite database or, with ``--db``, a fresh database on
that PostgreSQL server, with two organisations: one whose trail has
``--short`` entries (the baseline) and one with ``--entries`` (the subject),
bulk-inserted as linked chains with their facets, as the chainer leaves
them. Three pages are read for each: the newest page, the oldest page
(keyset: ``after=0``) and the newest page of one action (a filter). Each
measurement is the median latency of ``--requests`` GETs on one keep-alive
connection; baseline and subject take turns ``--rounds`` times, so that a
slow moment of the machine hits both. Printed: min/median/max over the
rounds, and the ratio of the subject's median to the baseline's (goal: about
1).

    .venv-test/bin/python benchmarks/audit_trail.py [--entries 300000] [--short 100]
        [--rounds 3] [--requests 20]
        [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

import argparse
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert

from consultroom.accounts.models import Role, User
from consultroom.audit.chain import entry_hash
from consultroom.audit.models import (
    ACTION,
    GENESIS,
    OBJECT_TYPE,
    USER,
    AuditChain,
    AuditEntry,
    AuditFacet,
)
from consultroom.db import utcnow
from consultroom.tenancy.models import Organisation
from consultroom.testing import password_hash

from figures import figure
from realtime_support import PASSWORD, AppServer, timed_gets

# What a trail holds: (action, object type), one in ten entries an update.
EVENTS = [("client.read", "client")] * 6 + [
    ("client.list", None),
    ("appointment.create", "appointment"),
    ("login.success", "user"),
    ("client.update", "client"),
]
STAFF = 20  # users named in the trail
CHUNK = 5000  # rows per INSERT
COLUMNS = [c.name for c in AuditEntry.__table__.columns if c.name != "id"]


def admin(app, organisation):
    return app._save(
        User(
            organisation_id=organisation.id,
            role=Role.org_admin,
            name=f"Admin of {organisation.subdomain}",
            email=f"admin@{organisation.subdomain}.bench.example",
            password_hash=password_hash(PASSWORD),
        )
    )


def fill_trail(app, organisation, count):
    """``count`` linked entries in ``organisation``'s chain, a second apart
    up to now, with the chain's head and the facets the chainer would keep."""
    db, start = app.db, utcnow() - timedelta(seconds=count)
    previous, rows = GENESIS, []
    for seq in range(1, count + 1):
        action, object_type = EVENTS[seq % len(EVENTS)]
        user = seq % STAFF
        entry = AuditEntry(
            organisation_id=organisation.id,
            seq=seq,
            at=start + timedelta(seconds=seq),
            user_id=1000 + user,
            user_name=f"Staff member {user}",
            action=action,
            object_type=object_type,
            object_id=str(seq % 997) if object_type else None,
            address="192.0.2.1",
            detail={"page": seq % 7} if action == "client.list" else {},
            prev_hash=previous,
        )
        entry.hash = previous = entry_hash(entry)
        rows.append({c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns})
        if len(rows) == CHUNK or seq == count:
            db.execute(
                insert(AuditEntry), [{k: v for k, v in r.items() if k != "id"} for r in rows]
            )
            rows = []
    db.add(AuditChain(organisation_id=organisation.id, length=count, head_hash=previous))
    facets = {(ACTION, a): a for a, _ in EVENTS}
    facets.update({(OBJECT_TYPE, t): t for _, t in EVENTS if t})
    facets.update({(USER, str(1000 + u)): f"Staff member {u}" for u in range(STAFF)})
    db.add_all(
        AuditFacet(organisation_id=organisation.id, kind=k, value=v, label=label)
        for (k, v), label in facets.items()
    )
    db.commit()


def cookie_for(app, organisation, user):
    """``user``'s session cookie from the login form of ``organisation``'s site."""
    home = app.org
    app.org = organisation  # AppServer's requests go to its organisation's site
    try:
        return app.host(), app.log_in(user)
    finally:
        app.org = home


PAGES = {
    "newest page": "/organisation/audit",
    "oldest page": "/organisation/audit?after=0",
    # An action with a full page of entries in the short trail too: both
    # sides render the same 50 rows.
    "filtered (one action)": "/organisation/audit?action=client.read",
}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300_000, help="the long trail")
    parser.add_argument("--short", type=int, default=100, help="the short trail (baseline)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="per measurement")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args(argv)
    app = AppServer(db=args.db)
    try:
        long_org = app._save(Organisation(subdomain="longtrail", name="Long trail"))
        sizes = {app.org: args.short, long_org: args.entries}
        trails = {f"{count} entries": organisation for organisation, count in sizes.items()}
        started = time.perf_counter()
        for organisation, count in sizes.items():
            fill_trail(app, organisation, count)
        print(f"trails inserted in {time.perf_counter() - started:.1f} s")
        sites = {name: cookie_for(app, org, admin(app, org)) for name, org in trails.items()}
        results = {(page, name): [] for page in PAGES for name in trails}
        for _ in range(args.rounds):
            for page, path in PAGES.items():
                for name, (host, cookie) in sites.items():
                    results[page, name].append(
                        timed_gets(
                            app.port,
                            path,
                            {"Host": host, "Cookie": cookie},
                            args.requests,
                            expected=b'class="audit"',
                        )[0]
                    )
    finally:
        app.stop()
    print(f"{args.rounds} rounds, median of {args.requests} requests each, database {app.db_url}")
    baseline, subject = trails
    for page in PAGES:
        for name in trails:
            times = results[page, name]
            print(
                f"{page:22} {name:>16}  min {min(times):7.2f} ms  median"
                f" {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms"
            )
        ratio = statistics.median(results[page, subject]) / statistics.median(
            results[page, baseline]
        )
        print(f"{page:22} ratio {subject} / {baseline}: {ratio:.2f}")
        ms = statistics.median(results[page, subject])
        figure(
            f"audit trail, {page}, {subject}",
            f"{ms:.0f} ms ({ratio:.2f}×)",
            f"{baseline}, {statistics.median(results[page, baseline]):.0f} ms",
            "independent of the trail's length (≤ 1.5×)",
            ratio <= 1.5,
        )


if __name__ == "__main__":
    main()
