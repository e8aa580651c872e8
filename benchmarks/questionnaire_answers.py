"""The questionnaires plugin's encryption at rest (issue 15): storing and
showing a client's 100-field answer set, encrypted (the plugin's own path:
the client's data key unwrapped with the key encryption key, the answers
sealed with AES-GCM, stored, read back, opened and rendered into the
answers page's template), against the same store, read and render of the
same answers as plain JSON.

In-process, with the application's own configuration, templates and
transactions, on a fresh SQLite database or, with ``--db``, a fresh
database on that PostgreSQL server. Each measurement is the median time of
``--sets`` store-and-render cycles, each in two transactions (store;
read and render), as a client's save and a practitioner's read are; plain
and encrypted take turns ``--rounds`` times. Printed: min/median/max over
the rounds and the ratio encrypted / plain (goal: at most 1.5).

    .venv-test/bin/python benchmarks/questionnaire_answers.py [--fields 100] [--sets 200]
        [--rounds 3] [--db postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

import argparse
import base64
import json
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from consultroom_questionnaires import fieldtypes, service
from consultroom_questionnaires.crypto import SETTING
from consultroom_questionnaires.i18n import page, translator
from consultroom_questionnaires.models import Response, Status
from pyramid.renderers import render

from consultroom.app import make_config
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, migrate, utcnow
from consultroom.jobs import in_organisation
from consultroom.plugins import set_enabled
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Organisation
from consultroom.testing import scratch_database

from figures import figure

TEMPLATE = "consultroom_questionnaires:templates/_answers.html"
# The field types that hold an answer, and one answer of each (as stored).
ANSWERS = {
    "short_text": "Dr. Bakker, Hoofdstraat 12",
    "long_text": "An itching rash on the left forearm since last Tuesday, worse at night. " * 4,
    "single_choice": "Stopped",
    "multiple_choice": ["Pollen", "Nuts"],
    "dropdown": "AB",
    "date": "1980-02-29",
    "number": "72.5",
    "yes_no": "no",
    "country": "NL",
}
OPTIONS = ["Never", "Stopped", "Yes", "Pollen", "Nuts", "A", "B", "AB", "0"]


def questionnaire_fields(count):
    kinds = list(ANSWERS)
    return [
        {
            "key": f"f{n:010x}",
            "type": kinds[n % len(kinds)],
            "label": f"Question {n + 1}",
            "help": "",
            "required": False,
            "options": OPTIONS,
        }
        for n in range(count)
    ]


def set_up(db_url, fields):
    settings = {
        "sqlalchemy.url": db_url,
        "consultroom.base_domain": "bench.localhost",
        "consultroom.public_url": "http://bench.localhost",
        "session.secret": secrets.token_urlsafe(48),
        "mail.transport": "folder",
        "mail.folder": tempfile.mkdtemp(prefix="consultroom-bench-mail-"),
        SETTING: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    engine = make_engine(settings)
    migrate.upgrade(engine, PluginRegistry.discover())
    registry = make_config(settings).registry
    with make_session_factory(engine)() as db:
        org = Organisation(subdomain="bench", name="Benchmark clinic")
        db.add(org)
        db.flush()
        set_enabled(registry.plugins, db, org, "questionnaires", True)
        db.add(Client(organisation_id=org.id, initials="A.", last_name="Bakker"))
        db.commit()

    def make(request):
        client = request.dbsession.query(Client).one()
        made = service.create(request, "Benchmark", None, False, fields)
        return service.attach(request, made, client.id).id

    return registry, engine, in_organisation(registry, "bench", make)


def answers_for(fields):
    return {f["key"]: ANSWERS[f["type"]] for f in fields}


def _render(request, response, answers):
    t = translator(request.localizer)
    rows = [
        (f, fieldtypes.readable(f, answers.get(f["key"]), t, "en")) for f in response.version.fields
    ]
    values = page(request, response=response, rows=rows, images={}, labels=service.STATUS_LABELS)
    html = render(TEMPLATE, values, request)
    assert "Dr. Bakker" in html
    return html


def encrypted_cycle(registry, response_id, answers):
    def store(request):
        response = request.dbsession.get(Response, response_id)
        service.store_answers(request, response, answers, finished=False)

    def show(request):
        response = request.dbsession.get(Response, response_id)
        return _render(request, response, service.answers_of(request, response))

    in_organisation(registry, "bench", store)
    return in_organisation(registry, "bench", show)


def plain_cycle(registry, response_id, answers):
    def store(request):
        response = request.dbsession.get(Response, response_id)
        response.answers = json.dumps(answers, ensure_ascii=False, sort_keys=True).encode()
        response.status = Status.started
        # A save always writes (store_answers stamps it too): the same commit.
        response.updated_at = utcnow()

    def show(request):
        response = request.dbsession.get(Response, response_id)
        return _render(request, response, json.loads(response.answers))

    in_organisation(registry, "bench", store)
    return in_organisation(registry, "bench", show)


def measure(cycle, registry, response_id, answers, sets):
    times = []
    for _ in range(sets):
        started = time.perf_counter()
        cycle(registry, response_id, answers)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--fields", type=int, default=100)
    parser.add_argument("--sets", type=int, default=200, help="cycles per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="consultroom-bench-"))
    db_url, drop = scratch_database(args.db, tmp / "bench.sqlite", prefix="consultroom_bench")
    try:
        fields = questionnaire_fields(args.fields)
        registry, engine, response_id = set_up(db_url, fields)
        answers = answers_for(fields)
        results = {"plain": [], "encrypted": []}
        for _ in range(args.rounds):
            results["plain"].append(measure(plain_cycle, registry, response_id, answers, args.sets))
            results["encrypted"].append(
                measure(encrypted_cycle, registry, response_id, answers, args.sets)
            )
        engine.dispose()
    finally:
        drop()
    print(
        f"{args.fields} fields, median of {args.sets} store-and-render cycles, {args.rounds} rounds"
    )
    for name, times in results.items():
        print(
            f"{name:10} min {min(times):7.3f} ms  median {statistics.median(times):7.3f} ms"
            f"  max {max(times):7.3f} ms"
        )
    plain, encrypted = (statistics.median(results[k]) for k in ("plain", "encrypted"))
    ratio = encrypted / plain
    print(f"ratio encrypted / plain: {ratio:.2f}")
    figure(
        f"questionnaire answers, {args.fields} fields: encrypt, store, read, decrypt, render",
        f"{encrypted:.2f} ms ({ratio:.2f}×)",
        f"the same as plain JSON, {plain:.2f} ms",
        "≤ 1.5×",
        ratio <= 1.5,
    )


if __name__ == "__main__":
    main()
