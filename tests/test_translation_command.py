"""``consultroom captions``: a plugin's subcommand through the
``consultroom_commands`` door. The worker starts with the bundled model,
does its rounds (a room of an organisation without captions is let go) and
stops cleanly on SIGTERM."""

import signal
import subprocess
import time
from pathlib import Path

import pytest
from consultroom_translation.models import CaptionRoom
from sqlalchemy import select
from test_cli import CLI

from consultroom.cli import build_parser
from consultroom.room.models import Room
from consultroom.tenancy.models import Organisation

pytestmark = pytest.mark.sqlite_only

CONSULTROOM = Path(__file__).resolve().parents[1] / ".venv-test" / "bin" / "consultroom"


def test_the_plugin_command_is_on_the_command_line():
    parser = build_parser()
    assert "captions" in parser.format_help()
    assert callable(parser.parse_args(["captions"]).func)


def test_the_caption_worker_runs_its_rounds_and_stops_on_sigterm(tmp_path, capsys, fresh_sqlite):
    cli = CLI(tmp_path, capsys, url=fresh_sqlite(tmp_path / "cli.sqlite"))
    with cli.session() as db:
        org = Organisation(subdomain="off", name="Off")
        db.add(org)
        db.flush()
        room = Room(organisation_id=org.id)
        db.add(room)
        db.flush()
        db.add(CaptionRoom(room_id=room.id, organisation_id=org.id))
        db.commit()
    process = subprocess.Popen([str(CONSULTROOM), "-c", str(cli.ini), "captions"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with cli.session() as db:
                if db.scalar(select(CaptionRoom.room_id)) is None:
                    break
            time.sleep(0.5)
        else:
            raise AssertionError("the worker never let the room of an organisation without it go")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    cli.close()
