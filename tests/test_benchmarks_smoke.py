"""The benchmarks still run: each with tiny numbers, against its own
application and baseline server processes (loopback HTTP and websockets
only, no WebRTC). benchmarks/call_in_to_video.py needs Chromium and a
private network namespace; it is left to its own instructions.

Those that use a database run on the PostgreSQL pass, with ``--db``, as
``benchmarks/run`` runs them; one of them on the SQLite pass too, without
it, as a benchmark starts by default (every benchmark makes its database
with the same helper). Each costs seconds of server starts: run on both
passes, they took a minute and a half of the whole run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Benchmarks that use no database (the captions' speech engine) take no
# --db: the same on either pass, the PostgreSQL pass leaves them out.
WITHOUT_DATABASE = {"captions.py"}
# Also run without --db on the SQLite pass (see above).
ON_BOTH_PASSES = {"questionnaire_answers.py"}


# Each benchmark with tiny numbers.
SCRIPTS = [
    ("signalling_latency.py", ["--idle", "5", "--messages", "20", "--rounds", "1"]),
    ("chat_latency.py", ["--idle", "5", "--messages", "20", "--rounds", "1"]),
    (
        "sockets_memory.py",
        ["--sockets", "5", "--hold", "0.5", "--workers", "1", "--rounds", "1"],
    ),
    (
        "join_storm.py",
        [
            "--clients",
            "5",
            "--seconds",
            "0.5",
            "--staff",
            "2",
            "--workers",
            "1",
            "--rounds",
            "1",
        ],
    ),
    (
        "waiting_fanout.py",
        [
            "--waiting",
            "20",
            "--watchers",
            "5",
            "--staff",
            "2",
            "--arrivals",
            "2",
            "--rounds",
            "1",
        ],
    ),
    ("request_cost.py", ["--seconds", "0.2", "--rounds", "1", "--clients", "2"]),
    ("audit_trail.py", ["--entries", "300", "--rounds", "1", "--requests", "1"]),
    ("data_growth.py", ["--clients", "30", "--rounds", "1", "--requests", "1"]),
    ("questionnaire_answers.py", ["--fields", "10", "--sets", "2", "--rounds", "1"]),
    ("captions.py", ["--sentences", "2", "--rounds", "1"]),
]


def _on_its_pass(script, args):
    if script in WITHOUT_DATABASE:
        return pytest.param(script, args, marks=pytest.mark.sqlite_only)
    if script in ON_BOTH_PASSES:
        return pytest.param(script, args)
    return pytest.param(script, args, marks=pytest.mark.postgresql_only)


@pytest.mark.parametrize("script, args", [_on_its_pass(*s) for s in SCRIPTS])
def test_benchmark_runs(script, args):
    db = os.environ.get("CONSULTROOM_TEST_DB", "")
    if db.startswith("postgresql") and script not in WITHOUT_DATABASE:
        args = [*args, "--db", db]
    done = subprocess.run(
        [sys.executable, BENCHMARKS / script, *args], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "ratio" in done.stdout
