"""The audit trail: what is recorded (client reads and changes, settings,
plugin switches, logins, the API), the hash chain and ``consultroom audit
verify`` (which names an edited, deleted or inserted row), the signed
checkpoints that show a chain recomputed after a change, entries linked
after their transaction commits (concurrent writers without a lock, aborted
transactions, linking that fails), and the organisation admin's page and
CSV export."""

import csv
import importlib
import io
import json
import os
import re
import threading
import time
from types import SimpleNamespace

import pytest
import transaction
from pyramid.exceptions import ConfigurationError
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.orm import Session
from test_cli import CLI

from consultroom.accounts.models import Role
from consultroom.audit import CHAINER, record
from consultroom.audit.anchor import AnchorError, from_settings
from consultroom.audit.chain import Chainer, _note_facets, entry_hash, link_all, verify
from consultroom.audit.models import AuditChain, AuditEntry, AuditFacet, AuditPending
from consultroom.db import make_engine, make_session_factory, migrate, request_session, utcnow
from consultroom.tenancy.models import Organisation
from consultroom.testing import PASSWORD, scratch_database

from clients_support import make_client, post


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def admin(make_user, dbsession, org):
    return make_user(org, role=Role.org_admin, name="Ada Admin")


@pytest.fixture
def admin_app(webtest, login, admin):
    app = webtest("acme")
    login(app, admin)
    return app


def entries(dbsession, org=None, action=None):
    dbsession.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.organisation_id, AuditEntry.seq)
    if org is not None:
        query = query.where(AuditEntry.organisation_id == org.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return dbsession.scalars(query).all()


def without_append_only_guard(dbsession):
    """What someone with direct access to the database could do."""
    if dbsession.get_bind().dialect.name == "postgresql":
        dbsession.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        dbsession.execute(text("DROP TRIGGER audit_entry_no_update"))
        dbsession.execute(text("DROP TRIGGER audit_entry_no_delete"))


def with_append_only_guard(dbsession):
    """The guard back as it was, leaving no trace of having been off."""
    if dbsession.get_bind().dialect.name == "postgresql":
        dbsession.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
    else:
        migration = importlib.import_module("consultroom.migrations.versions.0004_audit_trail")
        for statement in migration.APPEND_ONLY["sqlite"]:
            dbsession.execute(text(statement))


def recompute_after_editing(dbsession, organisation_id, seq, **changes):
    """What someone with write access to the database can do beyond editing
    a row: recompute every later hash and the chain head with the project's
    own hash function, so that the chain verifies again."""
    without_append_only_guard(dbsession)
    later = dbsession.scalars(
        select(AuditEntry)
        .where(AuditEntry.organisation_id == organisation_id, AuditEntry.seq >= seq)
        .order_by(AuditEntry.seq)
        .execution_options(populate_existing=True)
    ).all()
    for name, value in changes.items():
        setattr(later[0], name, value)
    previous = later[0].prev_hash
    for entry in later:
        entry.prev_hash = previous
        entry.hash = previous = entry_hash(entry)
    dbsession.get(AuditChain, organisation_id).head_hash = previous
    dbsession.flush()
    with_append_only_guard(dbsession)


# ---- what is recorded


def test_a_client_read_and_change_are_recorded(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Jansen", initials="J.")
    admin_app.get(f"/clients/{client.id}")
    form = admin_app.get(f"/clients/{client.id}/edit").forms[1]
    form["last_name"] = "Jansen-de Vries"
    form.submit(status=303)

    reads = entries(dbsession, org, "client.read")
    assert [(e.object_type, e.object_id, e.detail) for e in reads] == [
        ("client", str(client.id), {}),
        ("client", str(client.id), {"page": "edit"}),
    ]
    (update,) = entries(dbsession, org, "client.update")
    assert (update.user_id, update.user_name, update.address) == (
        admin.id,
        "Ada Admin",
        "192.0.2.10",
    )
    assert update.detail == {"changed": ["last_name"]}
    assert "Jansen" not in str(update.detail)  # names of fields, not their values
    assert update.support_user_id is None


def test_the_client_list_records_which_clients_were_shown_not_the_search(admin_app, dbsession, org):
    shown = make_client(dbsession, org, "Jansen")
    make_client(dbsession, org, "Pietersen")
    admin_app.get("/clients", {"q": "jans"})
    (listed,) = entries(dbsession, org, "client.list")
    assert listed.detail == {"ids": [shown.id], "searched": True, "page": 1}


def test_a_settings_change_is_recorded_with_old_and_new_values(admin_app, dbsession, org):
    page = admin_app.get("/organisation/advanced")
    # Each section of the page is saved on its own, and says which it was.
    form = [f for f in page.forms.values() if f.action.endswith("?section=security")][0]
    form["allow_remote_support"] = True
    form.submit(status=303)
    (change,) = entries(dbsession, org, "organisation.settings_update")
    assert change.detail == {
        "changed": {"allow_remote_support": [False, True]},
        "section": "security",
    }
    assert change.object_type == "organisation" and change.object_id == str(org.id)


def test_a_plugin_switch_on_the_console_is_recorded_in_the_organisations_chain(
    webtest, login, make_user, dbsession, org
):
    console = webtest()
    provider = make_user(None, role=Role.superuser, name="Pat Provider")
    login(console, provider)
    token = console.get(f"/organisations/{org.id}").html.find(
        "input", attrs={"name": "csrf_token"}
    )["value"]
    console.post(
        f"/organisations/{org.id}/plugins/hello", {"csrf_token": token, "enabled": "1"}, status=303
    )
    (switch,) = entries(dbsession, org, "plugin.enable")
    assert (switch.user_id, switch.user_name, switch.object_type, switch.object_id) == (
        provider.id,
        "Pat Provider",
        "plugin",
        "hello",
    )
    # The provider's own login is the console's business, not the organisation's.
    assert [e.action for e in entries(dbsession, org)] == ["plugin.enable"]


def test_logins_are_recorded_failed_and_successful(webtest, login, dbsession, org, admin):
    app = webtest("acme")
    form = app.get("/login").forms[0]
    form["email"], form["password"] = admin.email, "not the password"
    form.submit(status=200)
    login(app, admin, password=PASSWORD)  # through the form: that is what is recorded
    post(app, "/logout", {}, status=303)
    actions = [(e.action, e.object_id, e.user_name) for e in entries(dbsession, org)]
    assert actions == [
        ("login.failure", str(admin.id), ""),
        ("login.success", str(admin.id), "Ada Admin"),
        ("logout", str(admin.id), "Ada Admin"),
    ]


def test_api_reads_with_the_key_are_recorded_under_the_key(webtest, dbsession, org):
    key = org.rotate_api_key()
    dbsession.flush()
    client = make_client(dbsession, org, "Jansen")
    webtest("acme").get(
        f"/api/v1/clients/{client.id}", headers={"Authorization": f"Bearer {key}"}, status=200
    )
    (read,) = entries(dbsession, org, "client.read")
    assert read.user_id is None and read.user_name == f"API key {key[:8]}…"
    assert read.detail == {"via": "api"}


def test_nothing_is_recorded_when_the_change_does_not_commit(admin_app, dbsession, org):
    admin_app.get("/clients/999999", status=404)
    assert entries(dbsession, org, "client.read") == []


# ---- the chain


def test_entries_form_a_verified_chain(admin_app, dbsession, org):
    client = make_client(dbsession, org, "Jansen")
    for _ in range(3):
        admin_app.get(f"/clients/{client.id}")
    chain = entries(dbsession, org)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(e.prev_hash == p.hash for p, e in zip(chain, chain[1:], strict=False))
    head = dbsession.get(AuditChain, org.id)
    assert (head.length, head.head_hash) == (len(chain), chain[-1].hash)
    assert verify(dbsession).problem is None


def test_the_database_refuses_to_change_an_entry(admin_app, dbsession, org):
    admin_app.get("/clients")
    with pytest.raises(Exception, match="cannot be changed"):
        with dbsession.begin_nested():
            dbsession.execute(text("UPDATE audit_entry SET action = 'x'"))


def test_the_database_refuses_to_change_a_pending_entry(dbsession, org):
    dbsession.add(AuditPending(organisation_id=org.id, at=utcnow(), action="client.read"))
    dbsession.flush()
    with pytest.raises(Exception, match="cannot be changed"):
        with dbsession.begin_nested():
            dbsession.execute(text("UPDATE audit_pending SET action = 'x'"))


@pytest.fixture
def trail(admin_app, dbsession, org):
    client = make_client(dbsession, org, "Jansen")
    for _ in range(4):
        admin_app.get(f"/clients/{client.id}")
    without_append_only_guard(dbsession)
    return entries(dbsession, org)


def test_an_edited_row_is_named(trail, dbsession):
    victim = trail[1]
    dbsession.execute(
        text("UPDATE audit_entry SET address = '198.51.100.1' WHERE id = :id"), {"id": victim.id}
    )
    problem = verify(dbsession).problem
    assert problem.startswith(f"entry {victim.id} (seq 2, organisation ")
    assert "edited" in problem


def test_a_deleted_row_is_detected(trail, dbsession):
    gone, after = trail[1], trail[2]
    dbsession.execute(delete(AuditEntry).where(AuditEntry.id == gone.id))
    problem = verify(dbsession).problem
    assert problem.startswith(f"entry {after.id} (seq 3, organisation ")
    assert f"does not follow entry {trail[0].id}" in problem


def test_deleting_the_last_rows_is_detected(trail, dbsession):
    dbsession.execute(delete(AuditEntry).where(AuditEntry.id == trail[-1].id))
    problem = verify(dbsession).problem
    assert (
        f"the chain head records {len(trail)} entries but ends at entry {trail[-2].id}" in problem
    )


def test_an_inserted_row_is_detected(trail, dbsession, org):
    seq = len(trail) + 1
    forged = AuditEntry(
        organisation_id=org.id,
        seq=seq,
        at=utcnow(),
        action="client.read",
        address="",
        detail={},
        prev_hash=trail[-1].hash,
        hash="0" * 64,
    )
    dbsession.add(forged)
    dbsession.flush()
    assert verify(dbsession).problem.startswith(f"entry {forged.id} (seq {seq}")


def test_audit_verify_command_names_the_edited_row(tmp_path, capsys):
    cli = CLI(tmp_path, capsys)
    try:
        cli("db", "upgrade")
        cli("orgs", "create", "--subdomain", "acme", "--name", "Acme")
        for _ in range(2):
            cli("plugins", "enable", "--org", "acme", "hello")
            cli("plugins", "disable", "--org", "acme", "hello")
        first, second = cli("audit", "verify").splitlines()
        assert first == "OK: 4 audit entries in 1 chain(s) verified"
        assert second.startswith("No anchor checked")
        with cli.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
            victim = connection.exec_driver_sql("SELECT id FROM audit_entry WHERE seq = 2").scalar()
            connection.exec_driver_sql(
                "UPDATE audit_entry SET action = 'plugin.enable' WHERE id = ?", (victim,)
            )
        cli("audit", "verify", code=1)
        assert f"entry {victim} (seq 2, organisation 1 (acme))" in cli.err
        assert "edited" in cli.err
    finally:
        cli.close()


# ---- the anchor: signed checkpoints outside the database

ANCHOR_KEY = "anchor-test-key-0123456789-0123456789"


def anchor_at(path, key=ANCHOR_KEY):
    return from_settings({"audit.anchor_key": key, "audit.anchor_file": str(path)})


@pytest.fixture
def anchor(tmp_path):
    return anchor_at(tmp_path / "anchor.jsonl")


@pytest.fixture
def reads(admin_app, dbsession, org):
    """Appends ``n`` entries to the organisation's chain."""
    client = make_client(dbsession, org, "Jansen")

    def read(n):
        for _ in range(n):
            admin_app.get(f"/clients/{client.id}")

    return read


def anchored_verify(dbsession, anchor):
    return verify(dbsession, anchor.read()[0]).problem


def test_an_untampered_chain_matches_every_checkpoint(reads, dbsession, org, anchor):
    for _ in range(3):
        reads(2)
        anchor.checkpoint(dbsession)
    reads(1)  # not anchored yet: fine
    marks, checkpoints = anchor.read()
    assert checkpoints == 3
    assert {seq for organisation_id, seq in marks if organisation_id == org.id} == {
        len(entries(dbsession, org)) - 1 - 2 * n for n in range(3)
    }
    assert verify(dbsession, marks).problem is None


def test_a_chain_recomputed_after_a_checkpoint_fails_only_with_the_anchor(
    reads, dbsession, org, anchor
):
    reads(3)
    checkpoint = anchor.checkpoint(dbsession)
    reads(2)
    (anchored,) = [c for c in checkpoint["chains"] if c["organisation_id"] == org.id]
    recompute_after_editing(dbsession, org.id, 2, address="198.51.100.1")

    assert verify(dbsession).problem is None  # the chain alone cannot tell
    victim = entries(dbsession, org)[anchored["length"] - 1]
    problem = anchored_verify(dbsession, anchor)
    assert problem.startswith(
        f"entry {victim.id} (seq {anchored['length']}, organisation"
        f" {org.id} (acme)): its hash is not the one the checkpoint of"
        f" {checkpoint['at']} (line 1 of {anchor.path}) recorded"
    )
    assert "recomputed" in problem


def test_a_change_after_the_last_checkpoint_is_left_to_the_next(reads, dbsession, org, anchor):
    reads(2)
    anchor.checkpoint(dbsession)
    reads(2)
    recompute_after_editing(dbsession, org.id, len(entries(dbsession, org)), address="198.51.100.1")
    assert anchored_verify(dbsession, anchor) is None


def test_entries_deleted_with_the_head_rewritten_are_missed(reads, dbsession, org, anchor):
    reads(3)
    anchor.checkpoint(dbsession)
    trail = entries(dbsession, org)
    without_append_only_guard(dbsession)
    dbsession.execute(delete(AuditEntry).where(AuditEntry.id == trail[-1].id))
    head = dbsession.get(AuditChain, org.id)
    head.length, head.head_hash = len(trail) - 1, trail[-2].hash
    dbsession.flush()
    assert verify(dbsession).problem is None
    assert f"recorded seq {len(trail)}, which the database no longer has" in anchored_verify(
        dbsession, anchor
    )


def test_a_checkpoint_edited_to_match_a_recomputed_chain_is_refused(reads, dbsession, org, anchor):
    reads(3)
    anchor.checkpoint(dbsession)
    recompute_after_editing(dbsession, org.id, 2, address="198.51.100.1")
    forged = json.loads(anchor.path.read_text())
    forged["chains"] = [
        {**c, "head_hash": dbsession.get(AuditChain, org.id).head_hash}
        if c["organisation_id"] == org.id
        else c
        for c in forged["chains"]
    ]
    anchor.path.write_text(json.dumps(forged) + "\n")
    with pytest.raises(
        AnchorError,
        match=f"line 1 of {anchor.path}: its signature was not made with audit.anchor_key",
    ):
        anchor.read()


def test_checkpoints_that_disagree_show_a_recomputation_between_them(reads, dbsession, org, anchor):
    reads(2)
    anchor.checkpoint(dbsession)
    recompute_after_editing(dbsession, org.id, 1, address="198.51.100.1")
    anchor.checkpoint(dbsession)  # signs the recomputed head: the same seq, another hash
    with pytest.raises(AnchorError, match="line 1 .* and .*line 2 .* record different hashes"):
        anchor.read()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("not json\n", "line 1 of .* is not a checkpoint"),
        ('{"at": "2031-01-01T00:00:00Z", "chains": []}\n', "line 1 of .* is not a checkpoint"),
    ],
)
def test_a_missing_or_unreadable_anchor_file_is_an_error(anchor, content, message):
    if content is not None:
        anchor.path.write_text(content)
    with pytest.raises(AnchorError, match=message):
        anchor.read()


def test_the_anchor_key_rotates(reads, dbsession, tmp_path):
    old, new = ANCHOR_KEY, "new-" + ANCHOR_KEY
    reads(1)
    anchor_at(tmp_path / "anchor.jsonl", old).checkpoint(dbsession)
    anchor_at(tmp_path / "anchor.jsonl", f"{new} {old}").checkpoint(dbsession)
    assert anchor_at(tmp_path / "anchor.jsonl", f"{new} {old}").read()[1] == 2
    with pytest.raises(AnchorError, match="line 1 of .*signature"):
        anchor_at(tmp_path / "anchor.jsonl", new).read()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"audit.anchor_key": ANCHOR_KEY}, "set both audit.anchor_key and audit.anchor_file"),
        ({"audit.anchor_file": "/tmp/anchor.jsonl"}, "set both"),
        (
            {"audit.anchor_key": f"{ANCHOR_KEY} CHANGE-ME", "audit.anchor_file": "/tmp/a.jsonl"},
            "at least 32 characters",
        ),
        (
            {
                "audit.anchor_key": ANCHOR_KEY,
                "audit.anchor_file": "/tmp/a.jsonl",
                "audit.anchor_minutes": "0",
            },
            "audit.anchor_minutes",
        ),
    ],
)
def test_anchor_settings_are_checked(settings, message):
    with pytest.raises(ConfigurationError, match=message):
        from_settings(settings)
    assert from_settings({}) is None


@pytest.fixture
def command_database(tmp_path):
    """An empty database for the commands, on the server the tests use."""
    url, drop = scratch_database(os.environ.get("CONSULTROOM_TEST_DB", ""), tmp_path / "cli.sqlite")
    yield url
    drop()


def cli_in(directory, capsys, url, extra=""):
    directory.mkdir()
    return CLI(directory, capsys, extra=extra, url=url)


@pytest.fixture
def commands(tmp_path, capsys, command_database):
    """The command line with and without the anchor, on one database with
    four entries in acme's chain."""
    anchor_file = tmp_path / "anchor.jsonl"
    with_anchor = cli_in(
        tmp_path / "anchored",
        capsys,
        command_database,
        f"audit.anchor_key = {ANCHOR_KEY}\naudit.anchor_file = {anchor_file}",
    )
    without = cli_in(tmp_path / "plain", capsys, command_database)
    try:
        with_anchor("db", "upgrade")
        with_anchor("orgs", "create", "--subdomain", "acme", "--name", "Acme")
        for _ in range(2):
            with_anchor("plugins", "enable", "--org", "acme", "hello")
            with_anchor("plugins", "disable", "--org", "acme", "hello")
        yield with_anchor, without, anchor_file
    finally:
        with_anchor.close()
        without.close()


def test_audit_verify_command_finds_a_recomputed_chain_with_the_anchor(commands):
    cli, without, anchor_file = commands
    assert cli("audit", "checkpoint") == f"checkpoint of 1 chain(s) appended to {anchor_file}\n"
    assert cli("audit", "verify").splitlines() == [
        "OK: 4 audit entries in 1 chain(s) verified",
        f"OK: 1 signed checkpoint(s) in {anchor_file} match the chains",
    ]
    with Session(cli.engine) as session, session.begin():
        organisation_id = session.scalar(select(Organisation.id))
        recompute_after_editing(session, organisation_id, 2, action="plugin.enable")

    assert without("audit", "verify").startswith(
        "OK: 4 audit entries in 1 chain(s) verified\nNo anchor checked"
    )
    cli("audit", "verify", code=1)
    assert (
        f"(seq 4, organisation {organisation_id} (acme)): its hash is not the one the"
        " checkpoint of" in cli.err
    )
    assert "recomputed" in cli.err


def test_audit_verify_command_refuses_a_missing_or_forged_anchor(commands):
    cli, without, anchor_file = commands
    cli("audit", "verify", code=1)
    assert f"audit anchor broken: {anchor_file} does not exist" in cli.err
    cli("audit", "checkpoint")
    anchor_file.write_text(anchor_file.read_text().replace('"length":4', '"length":3'))
    cli("audit", "verify", code=1)
    assert "signature was not made with audit.anchor_key" in cli.err
    without("audit", "checkpoint", code=1)
    assert "set audit.anchor_key and audit.anchor_file" in without.err


def test_the_worker_writes_a_checkpoint_every_anchor_minutes(commands):
    cli, without, anchor_file = commands
    assert without("worker", "--once") == ""  # without the anchor: none
    # The jobs ran for this minute in the round before (and are named only
    # if the minute has turned since).
    assert cli("worker", "--once").endswith("room files removed: 0, audit checkpoints: 1\n")
    assert cli("worker", "--once") == ""  # the next is due in an hour
    an_hour_ago = anchor_file.stat().st_mtime - 3600
    os.utime(anchor_file, (an_hour_ago, an_hour_ago))
    cli("worker", "--once")
    assert len(anchor_file.read_text().splitlines()) == 2
    assert cli("audit", "verify").endswith(
        f"2 signed checkpoint(s) in {anchor_file} match the chains\n"
    )


# ---- linking after commit


def pending(dbsession):
    return dbsession.scalar(select(func.count()).select_from(AuditPending))


def wait_until_linked(db_engine, seconds=30):
    deadline = time.monotonic() + seconds
    with Session(db_engine) as session:
        while pending(session) and time.monotonic() < deadline:
            time.sleep(0.05)
            session.rollback()  # a fresh snapshot


class Writer:
    """Records entries as a request does (through ``record``, in a
    transaction of its own manager) on sessions of ``dbmaker``."""

    def __init__(self, dbmaker, organisation_id, name="writer", chainer=None):
        self.tm = transaction.TransactionManager(explicit=True)
        self.request = SimpleNamespace(
            tm=self.tm,
            dbsession=request_session(dbmaker, self.tm),
            registry={CHAINER: chainer or Chainer(dbmaker, background=False)},
            organisation=SimpleNamespace(id=organisation_id),
            identity=SimpleNamespace(id=None, name=name),
            support_user=None,
            client_addr="192.0.2.20",
        )

    def write(self, **detail):
        with self.tm:
            record(self.request, "test.write", **detail)
            record(self.request, "test.write", second=True, **detail)


def test_an_aborted_transaction_leaves_no_entry_and_no_gap(dbsession, org, _app_dbmaker):
    writer = Writer(_app_dbmaker, org.id)
    writer.write(n=1)
    with pytest.raises(RuntimeError), writer.tm:
        record(writer.request, "test.write", n=2)
        raise RuntimeError("the view failed")
    writer.write(n=3)
    assert [(e.seq, e.detail.get("n")) for e in entries(dbsession, org)] == [
        (1, 1),
        (2, 1),
        (3, 3),
        (4, 3),
    ]
    assert pending(dbsession) == 0
    assert verify(dbsession).problem is None


def test_linking_onto_an_existing_chain_takes_six_statements(
    dbsession, org, _app_dbmaker, db_engine
):
    """The chainer runs after every request that records: it locks the head,
    reads the pending rows, inserts the entries, deletes those rows, moves
    the head and notes the facets; it inserts a head only for the first
    entries of an organisation. Each batch is linked and verifies."""
    sent = []

    def note(_connection, _cursor, statement, *_args):
        verb = statement.split(None, 1)[0].upper()
        if verb in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            sent.append(statement)

    writer = Writer(_app_dbmaker, org.id)
    writer.write(n=1)  # the organisation's first entries: the head is created
    event.listen(db_engine, "before_cursor_execute", note)
    try:
        with writer.tm:
            record(writer.request, "test.write", n=2)
    finally:
        event.remove(db_engine, "before_cursor_execute", note)
    linking = [s.split()[0] for s in sent if not s.startswith("INSERT INTO audit_pending")]
    assert linking == ["SELECT", "SELECT", "INSERT", "DELETE", "UPDATE", "INSERT"]
    assert not any(s.startswith("INSERT INTO audit_chain") for s in sent)
    assert [(e.seq, e.detail.get("n")) for e in entries(dbsession, org)] == [(1, 1), (2, 1), (3, 2)]
    assert pending(dbsession) == 0
    assert verify(dbsession).problem is None


def test_entries_whose_linking_failed_wait_for_the_worker(dbsession, org, _app_dbmaker, caplog):
    Writer(_app_dbmaker, org.id).write(n=1)
    unreachable = make_session_factory(create_engine("sqlite:////nonexistent/directory/db"))
    broken = Writer(_app_dbmaker, org.id)
    broken.request.registry = {CHAINER: Chainer(unreachable, background=False)}
    broken.write(n=2)  # committed: the failure to link is only logged
    assert "could not link audit entries" in caplog.text
    assert [e.detail["n"] for e in entries(dbsession, org)] == [1, 1]
    assert pending(dbsession) == 2
    result = verify(dbsession)
    assert (result.problem, result.entries, result.pending) == (None, 2, 2)

    assert link_all(_app_dbmaker) == 2  # the worker's round
    assert [e.detail["n"] for e in entries(dbsession, org)] == [1, 1, 2, 2]
    result = verify(dbsession)
    assert (result.problem, result.entries, result.pending) == (None, 4, 0)


def test_the_worker_links_what_is_left_and_verify_names_it(tmp_path, capsys):
    cli = CLI(tmp_path, capsys)
    try:
        cli("db", "upgrade")
        cli("orgs", "create", "--subdomain", "acme", "--name", "Acme")
        cli("plugins", "enable", "--org", "acme", "hello")
        with cli.engine.begin() as connection:
            connection.execute(
                AuditPending.__table__.insert().values(
                    organisation_id=1,
                    at=utcnow(),
                    user_name="",
                    support_user_name="",
                    action="test.left_over",
                    address="",
                    detail={},
                )
            )
        assert cli("audit", "verify").splitlines()[:2] == [
            "OK: 1 audit entries in 1 chain(s) verified",
            "1 audit entries recorded, not yet linked (the worker links them)",
        ]
        assert cli("worker", "--once").endswith(", audit entries linked: 1\n")
        assert (
            cli("audit", "verify").splitlines()[0] == "OK: 2 audit entries in 1 chain(s) verified"
        )
    finally:
        cli.close()


def test_the_migration_finds_the_facets_of_an_existing_trail(command_database, plugin_registry):
    engine = make_engine({"sqlalchemy.url": command_database})
    try:
        migrate.upgrade(engine, plugin_registry, "0007")
        rows = [  # (seq, user_id, user_name, action, object_type)
            (1, 5, "Ann", "client.read", "client"),
            (2, 5, "Ann Renamed", "client.list", None),
            (3, None, "API key 1234…", "client.read", "client"),
        ]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_entry (organisation_id, seq, at, user_id, user_name,"
                    " support_user_name, action, object_type, address, detail, prev_hash, hash)"
                    " VALUES (7, :seq, :at, :user_id, :user_name, '', :action, :object_type,"
                    " '', '{}', '', '')"
                ),
                [
                    dict(
                        zip(
                            ("seq", "user_id", "user_name", "action", "object_type"), r, strict=True
                        ),
                        at=utcnow(),
                    )
                    for r in rows
                ],
            )
        migrate.upgrade(engine, plugin_registry, "0008")
        with Session(engine) as session:
            facets = _facets(session, 7)
        assert facets == [
            ("action", "client.list", "client.list"),
            ("action", "client.read", "client.read"),
            ("object_type", "client", "client"),
            ("user", "5", "Ann Renamed"),  # the name of their latest entry
        ]
    finally:
        engine.dispose()


# SQLite has one writer at a time: nothing runs concurrently there.
postgresql_only = pytest.mark.postgresql_only


@pytest.fixture
def committed_org(db_engine):
    """An organisation committed for writers on connections of their own,
    removed with its trail afterwards."""
    with Session(db_engine) as session:
        org = Organisation(subdomain="audit-concurrency", name="Concurrency")
        session.add(org)
        session.commit()
        org_id = org.id
    yield org_id
    with Session(db_engine) as session, session.begin():
        without_append_only_guard(session)
        session.execute(delete(AuditEntry).where(AuditEntry.organisation_id == org_id))
        session.execute(delete(AuditPending).where(AuditPending.organisation_id == org_id))
        session.execute(delete(AuditChain).where(AuditChain.organisation_id == org_id))
        session.execute(delete(AuditFacet).where(AuditFacet.organisation_id == org_id))
        session.execute(delete(Organisation).where(Organisation.id == org_id))
        with_append_only_guard(session)


@postgresql_only
def test_concurrent_writers_keep_the_chain_linear(db_engine, committed_org):
    dbmaker = make_session_factory(db_engine)
    threads, per_thread = 20, 5
    barrier = threading.Barrier(threads)
    failures = []
    # Two processes' chainers in the background, beside writers that link
    # their own entries after their commit.
    chainers = [Chainer(dbmaker), Chainer(dbmaker), None]

    def write(n):
        try:
            writer = Writer(dbmaker, committed_org, f"writer {n}", chainer=chainers[n % 3])
            barrier.wait()
            for i in range(per_thread):
                writer.write(n=n, i=i)
        except Exception as exc:  # reported below, with the thread's cause
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    wait_until_linked(db_engine)  # the background chainers' last round
    with Session(db_engine) as session:
        chain = entries(session, SimpleNamespace(id=committed_org))
        assert [e.seq for e in chain] == list(range(1, 2 * threads * per_thread + 1))
        assert sorted((e.detail["n"], e.detail["i"], "second" in e.detail) for e in chain) == [
            (n, i, second) for n in range(threads) for i in range(per_thread) for second in (0, 1)
        ]
        result = verify(session)
        assert (result.problem, result.pending) == (None, 0)

    with Session(db_engine) as session, session.begin():
        without_append_only_guard(session)
        session.execute(
            text("UPDATE audit_entry SET user_name = 'someone else' WHERE id = :id"),
            {"id": chain[57].id},
        )
        with_append_only_guard(session)
    with Session(db_engine) as session:
        assert verify(session).problem.startswith(f"entry {chain[57].id} (seq 58, organisation ")


@postgresql_only
def test_with_the_background_chainer_a_request_does_not_wait_for_the_chain(
    db_engine, committed_org
):
    dbmaker = make_session_factory(db_engine)
    chainer = Chainer(dbmaker)  # the default: in the background
    Writer(dbmaker, committed_org, chainer=chainer).write(n=0)
    wait_until_linked(db_engine)  # the chain head exists
    with Session(db_engine) as holder, holder.begin():
        holder.scalars(
            select(AuditChain).where(AuditChain.organisation_id == committed_org).with_for_update()
        ).one()
        # Returns although the chain is locked: linking is the chainer's.
        Writer(dbmaker, committed_org, chainer=chainer).write(n=1)
        with Session(db_engine) as reader:
            assert pending(reader) == 2
    wait_until_linked(db_engine)
    with Session(db_engine) as reader:
        assert [e.detail["n"] for e in entries(reader, SimpleNamespace(id=committed_org))] == [
            0,
            0,
            1,
            1,
        ]


@postgresql_only
def test_a_writer_commits_while_the_chain_is_locked(db_engine, committed_org):
    """The request's transaction takes no lock on the chain: it commits while
    another transaction holds the chain's head; linking waits for that one."""
    dbmaker = make_session_factory(db_engine)
    Writer(dbmaker, committed_org).write(n=0)  # the chain head exists
    done = threading.Event()

    def write():
        Writer(dbmaker, committed_org).write(n=1)
        done.set()

    with Session(db_engine) as holder, holder.begin():
        holder.scalars(
            select(AuditChain).where(AuditChain.organisation_id == committed_org).with_for_update()
        ).one()
        thread = threading.Thread(target=write)
        thread.start()
        with Session(db_engine) as reader:
            for _ in range(100):  # committed, not linked yet: the lock is ours
                if reader.scalar(
                    select(func.count()).where(AuditPending.organisation_id == committed_org)
                ):
                    break
                threading.Event().wait(0.05)
            assert (
                reader.scalar(
                    select(func.count()).where(AuditPending.organisation_id == committed_org)
                )
                == 2
            )
        assert not done.is_set()
    thread.join(10)
    assert done.is_set()
    with Session(db_engine) as session:
        assert [e.seq for e in entries(session, SimpleNamespace(id=committed_org))] == [1, 2, 3, 4]
        assert verify(session).problem is None


@postgresql_only
def test_verify_is_not_fooled_by_a_chain_linked_while_it_reads(db_engine, committed_org):
    dbmaker = make_session_factory(db_engine)
    Writer(dbmaker, committed_org).write(n=0)
    linked_meanwhile = []

    def link_meanwhile(state):
        """Another request commits and is linked just before verify reads the entries."""
        reads_entries = state.is_select and any(
            d.get("entity") is AuditEntry for d in state.statement.column_descriptions
        )
        if reads_entries and not linked_meanwhile:
            Writer(dbmaker, committed_org).write(n=1)
            linked_meanwhile.append(True)

    with Session(db_engine) as session:
        event.listen(session, "do_orm_execute", link_meanwhile)
        result = verify(session)
    assert linked_meanwhile and result.problem is None
    with Session(db_engine) as session:
        assert len(entries(session, SimpleNamespace(id=committed_org))) == 4


# ---- the admin page


def table_rows(page):
    return [
        [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in page.html.select("table.audit tbody tr")
    ]


def test_the_page_filters_and_pages(admin_app, dbsession, org):
    jansen = make_client(dbsession, org, "Jansen")
    other = make_client(dbsession, org, "Pietersen")
    for _ in range(3):
        admin_app.get(f"/clients/{jansen.id}")
    admin_app.get(f"/clients/{other.id}")

    assert not admin_app.get("/organisation/audit").html.select("p.error")
    page = admin_app.get(
        "/organisation/audit", {"action": "client.read", "object_id": str(jansen.id)}
    )
    rows = table_rows(page)
    assert len(rows) == 3 and all(
        r[2] == "client.read" and r[3] == f"client {jansen.id}" for r in rows
    )
    # Nonsense in a filter is shown as a problem and left out, never a 500.
    assert (
        len(
            table_rows(
                admin_app.get(
                    "/organisation/audit",
                    {"action": "client.read", "object_id": "\x00", "date_to": "31-02-2020"},
                )
            )
        )
        == 4
    )
    assert (
        table_rows(
            admin_app.get(
                "/organisation/audit", {"date_from": "01-01-2000", "date_to": "31-12-2000"}
            )
        )
        == []
    )

    for _ in range(55):
        admin_app.get(f"/clients/{other.id}")
    first = admin_app.get("/organisation/audit", {"action": "client.read"})
    assert len(table_rows(first)) == 50 and not first.html.select("a[rel=prev]")
    older = first.click(description="Older")
    assert len(table_rows(older)) == 9 and not older.html.select("a[rel=next]")
    assert {row[2] for row in table_rows(older)} == {"client.read"}  # the filter stays
    assert table_rows(older.click(description="Newer")) == table_rows(first)
    oldest = first.click(description="Oldest")  # the oldest 50, read as fast as the newest
    assert table_rows(oldest)[-9:] == table_rows(older)
    assert table_rows(oldest)[:41] == table_rows(first)[9:]
    for nonsense in ({"before": "x"}, {"after": "-1"}, {"before": "1"}, {"after": "99999999"}):
        assert (
            table_rows(admin_app.get("/organisation/audit", nonsense))[0]
            == (table_rows(admin_app.get("/organisation/audit"))[0])
        )


def option_values(page, name):
    return [o["value"] for o in page.html.select(f"select[name={name}] option")]


def test_the_filters_offer_what_the_trail_holds_and_the_total_is_the_chains(
    admin_app, webtest, login, make_user, dbsession, org, admin
):
    client = make_client(dbsession, org, "Jansen")
    admin_app.get(f"/clients/{client.id}")
    practitioner = make_user(org, role=Role.practitioner, name="Piet Practitioner")
    make_user(org, role=Role.practitioner, name="Nina Never-acted")
    colleague = webtest("acme")
    login(colleague, practitioner)
    colleague.get("/clients")
    page = admin_app.get("/organisation/audit")
    trail = entries(dbsession, org)
    # Only who and what occurs in the trail (not Nina), however long it is.
    assert option_values(page, "user") == ["", str(admin.id), str(practitioner.id)]
    actions = sorted({e.action for e in trail})
    assert {"client.list", "client.read"} <= set(actions)
    assert option_values(page, "action") == ["", *actions]
    assert option_values(page, "object_type") == ["", "client"]
    assert f"{len(trail)} entries" in page.text
    filtered = admin_app.get("/organisation/audit", {"user": str(practitioner.id)})
    rows = table_rows(filtered)
    assert {row[1] for row in rows} == {"Piet Practitioner"} and ["client.list"] == [
        row[2] for row in rows if row[2].startswith("client.")
    ]
    assert not re.search(r"\d+ entries", filtered.text)  # a filter's matches are not counted


def test_the_export_is_the_filtered_list_and_is_recorded(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Jansen")
    admin_app.get(f"/clients/{client.id}")
    admin_app.get("/clients")
    response = admin_app.get("/organisation/audit.csv", {"action": "client.read"})
    assert response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Entry", "Time", "User id", "User"]
    assert [(r[3], r[6], r[8]) for r in rows[1:]] == [("Ada Admin", "client.read", str(client.id))]
    (export,) = entries(dbsession, org, "audit.export")
    assert export.detail == {"filters": {"action": "client.read"}, "rows": 1}


def test_only_organisation_admins_see_the_trail(
    webtest, login, make_user, dbsession, org, admin_app
):
    assert "/organisation/audit" in [a["href"] for a in admin_app.get("/").html.select("nav a")]
    practitioner = make_user(org, role=Role.practitioner)
    app = webtest("acme")
    login(app, practitioner)
    app.get("/organisation/audit", status=403)
    app.get("/organisation/audit.csv", status=403)


def test_another_organisations_entries_are_never_shown(
    admin_app, webtest, login, make_user, make_organisation, dbsession, org
):
    make_organisation("other", name="Other Care")
    other = dbsession.scalar(select(Organisation).where(Organisation.subdomain == "other"))
    stranger = make_user(other, role=Role.org_admin, name="Otto Other")
    other_app = webtest("other")
    login(other_app, stranger)
    secret = make_client(dbsession, other, "Geheim")
    other_app.get(f"/clients/{secret.id}")
    admin_app.get("/clients")

    for params in ({}, {"user": str(stranger.id)}, {"object_id": str(secret.id)}):
        page = admin_app.get("/organisation/audit", params)
        assert "Otto Other" not in page.text
        csv_text = admin_app.get("/organisation/audit.csv", params).body.decode("utf-8-sig")
        assert "Otto Other" not in csv_text
    ours = {str(e.id) for e in entries(dbsession, org)}
    exported = list(
        csv.reader(io.StringIO(admin_app.get("/organisation/audit.csv").body.decode("utf-8-sig")))
    )[1:]
    assert exported and {row[0] for row in exported} <= ours


def test_linking_notes_facets_and_a_user_s_label_is_their_latest_name(dbsession, org):
    entry = {"action": "client.read", "object_type": None, "user_id": 5, "user_name": "Ann"}
    _note_facets(dbsession, org.id, [entry])
    renamed = {**entry, "action": "client.list", "user_name": "Ann Renamed"}
    _note_facets(dbsession, org.id, [entry, renamed])
    facets = _facets(dbsession, org.id)
    assert facets == [
        ("action", "client.list", "client.list"),
        ("action", "client.read", "client.read"),
        ("user", "5", "Ann Renamed"),
    ]


def _facets(session, organisation_id):
    """The organisation's facets as (kind, value, label), in order."""
    return session.execute(
        select(AuditFacet.kind, AuditFacet.value, AuditFacet.label)
        .where(AuditFacet.organisation_id == organisation_id)
        .order_by(AuditFacet.kind, AuditFacet.value)
    ).all()
