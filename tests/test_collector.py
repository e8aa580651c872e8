"""The entry points assemble the application with the garbage collector
held back (no full collection: the default thresholds made 3 of them and 454
collections in all), then restore its thresholds and freeze what they made
(consultroom.collector). Each in a fresh interpreter, as a server or a
command starts."""

import json
import subprocess  # nosec B404
import sys

import pytest

from consultroom.testing import BASE_DOMAIN

PROBE = """
import gc, json, sys
default = gc.get_threshold()
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
import consultroom
try:
    {entry}
except SystemExit:
    pass
print(json.dumps({{
    "restored": gc.get_threshold() == default,
    "frozen": gc.get_freeze_count(),
    "collections": len(collections),
    "full": collections.count(2),
}}), file=sys.stderr)
"""


def _probe(entry):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(entry=entry)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.sqlite_only
def test_the_application_factory_assembles_without_full_collections_and_freezes(tmp_path):
    settings = {
        "sqlalchemy.url": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "consultroom.base_domain": BASE_DOMAIN,
        "consultroom.public_url": f"http://{BASE_DOMAIN}",
        "session.secret": "s" * 64,
        "mail.transport": "folder",
        "mail.folder": str(tmp_path / "mail"),
    }
    seen = _probe(f"consultroom.main({{}}, **{settings!r})")
    assert seen["restored"]
    assert seen["full"] == 0
    assert seen["collections"] < 150
    assert seen["frozen"] > 100_000


@pytest.mark.sqlite_only
def test_the_command_imports_without_full_collections_and_freezes():
    seen = _probe("consultroom.command(['--help'])")
    assert seen["restored"]
    assert seen["full"] == 0
    assert seen["frozen"] > 100_000
