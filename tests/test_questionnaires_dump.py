"""The questionnaires plugin's encryption at rest, seen from outside the
application (plugins/questionnaires): on a database of its own where every
request commits, a client fills in a canary answer; the database's own
file (SQLite, with its journal) or ``pg_dump`` of it (PostgreSQL) holds the
response but not the answer; after staff erase the client, the client's
key and responses are gone, the canary is nowhere, and the erasure's audit
entry remains."""

import base64
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from consultroom_questionnaires.crypto import SETTING
from consultroom_questionnaires.models import ClientKey, Response
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from webtest import TestApp

from consultroom.accounts.models import Role, User
from consultroom.app import make_config
from consultroom.appointments.models import Appointment
from consultroom.audit.models import AuditEntry
from consultroom.clients.models import Client
from consultroom.db import make_engine, make_session_factory, migrate
from consultroom.plugins import set_enabled
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Organisation
from consultroom.testing import BASE_DOMAIN, PASSWORD, password_hash, scratch_database

CANARY = "canary-dump-5b1e-answer"


@pytest.fixture
def committed(app_settings, tmp_path, fresh_sqlite):
    server = os.environ.get("CONSULTROOM_TEST_DB", "")
    plugins = PluginRegistry.discover()
    if server in ("", "sqlite"):
        url, drop = fresh_sqlite(tmp_path / "dump.sqlite"), None
        engine = make_engine({"sqlalchemy.url": url})
    else:
        url, drop = scratch_database(server, tmp_path / "unused.sqlite", "consultroom_dump")
        engine = make_engine({"sqlalchemy.url": url})
        migrate.upgrade(engine, plugins)
    settings = {
        **app_settings,
        "sqlalchemy.url": url,
        SETTING: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    config = make_config(settings, plugins=plugins, dbmaker=make_session_factory(engine))
    yield config, url
    engine.dispose()
    if drop is not None:
        drop()


def everything(url):
    """What the database holds, as its owner would copy it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        files = [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-journal"))]
        return b"".join(f.read_bytes() for f in files if f.exists())
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--data-only", plain], capture_output=True, check=True).stdout


def overwrites_deleted_rows(registry):
    """pg_dump copies live rows only; SQLite's file keeps a deleted row's
    bytes unless it is built or set with secure_delete (Debian's is)."""
    with registry["dbmaker"]() as db:
        if db.get_bind().dialect.name != "sqlite":
            return True
        return bool(db.execute(text("PRAGMA secure_delete")).scalar())


def _csrf(page):
    return page.html.find("input", attrs={"name": "csrf_token"})["value"]


def test_the_dump_holds_no_answer_and_after_erasure_no_key(committed):
    config, url = committed
    registry = config.registry
    with registry["dbmaker"]() as db:
        org = Organisation(subdomain="dump", name="Dump clinic")
        db.add(org)
        db.flush()
        set_enabled(registry.plugins, db, org, "questionnaires", True)
        admin = User(
            organisation_id=org.id,
            role=Role.org_admin,
            name="Ada",
            email="ada@dump.example",
            password_hash=password_hash(),
        )
        client = Client(organisation_id=org.id, initials="A.", last_name="Canary")
        db.add_all([admin, client])
        db.commit()
        client_id, admin_id = client.id, admin.id
    web = TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": f"dump.{BASE_DOMAIN}"})
    login = web.get("/login")
    web.post(
        "/login",
        {"email": "ada@dump.example", "password": PASSWORD, "csrf_token": _csrf(login)},
        status=303,
    )
    csrf = _csrf(web.get("/questionnaires"))
    made = web.post("/questionnaires", {"title": "Intake", "csrf_token": csrf}, status=303)
    qid = int(made.location.rsplit("/", 1)[-1])
    web.post(
        f"/questionnaires/{qid}/fields",
        {"type": "long_text", "label": "Complaints", "csrf_token": csrf},
        status=303,
    )
    web.post(
        "/appointments/new",
        {
            "client_id": client_id,
            "practitioner_id": admin_id,
            "date": "2030-03-05",
            "start_time": "10:00",
            "duration_minutes": "20",
            "questionnaires_questionnaire": str(qid),
            "questionnaires_required": "default",
            "csrf_token": csrf,
        },
        status=303,
    )
    with registry["dbmaker"]() as db:
        response = db.scalar(select(Response))
        token, key = response.token, response.version.fields[0]["key"]
    visitor = TestApp(web.app, extra_environ={"HTTP_HOST": f"dump.{BASE_DOMAIN}"})
    page = visitor.get(f"/q/{token}")
    visitor.post(
        f"/q/{token}",
        {"csrf_token": _csrf(page), "action": "finish", key: CANARY},
        status=303,
    )
    held = everything(url)
    assert token.encode() in held  # the dump holds the plugin's rows...
    # ...but not the answer, as text or as the hex of a binary column.
    assert CANARY.encode() not in held and CANARY.encode().hex().encode() not in held

    with registry["dbmaker"]() as db:
        wrapped = db.scalar(select(ClientKey.wrapped))
        appointment = db.scalar(select(Appointment))
        appointment.starts_at -= timedelta(days=3650)  # past: the client may go
        db.commit()
    assert wrapped
    web.post(f"/clients/{client_id}/delete", {"csrf_token": csrf}, status=303)
    with registry["dbmaker"]() as db:
        assert db.scalar(select(func.count(ClientKey.id))) == 0
        assert db.scalar(select(func.count(Response.id))) == 0
        erasures = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "client.delete", AuditEntry.object_id == str(client_id)
            )
        ).all()
        assert len(erasures) == 1
    after = everything(url)
    assert CANARY.encode() not in after and CANARY.encode().hex().encode() not in after
    if overwrites_deleted_rows(registry):
        # The wrapped key is gone from the copy too, not only from the rows.
        assert wrapped not in after and wrapped.hex().encode() not in after
