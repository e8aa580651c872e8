"""The audit trail: what is recorded (client reads and changes, settings,
plugin switches, logins, the API), the hash chain and ``consultroom audit
verify`` (which names an edited, deleted or inserted row), concurrent
writers, and the organisation admin's page and CSV export."""
import csv
import io
import threading

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from clients_support import make_client, post, quick_user
from consultroom.accounts.models import Role
from consultroom.audit.chain import append, verify
from consultroom.audit.models import AuditChain, AuditEntry
from consultroom.db import utcnow
from consultroom.tenancy.models import Organisation
from test_cli import CLI


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Care")


@pytest.fixture
def admin(make_user, dbsession, org):
    return quick_user(make_user, dbsession, org, role=Role.org_admin, name="Ada Admin")


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


# ---- what is recorded


def test_a_client_read_and_change_are_recorded(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Jansen", initials="J.")
    admin_app.get(f"/clients/{client.id}")
    form = admin_app.get(f"/clients/{client.id}/edit").forms[1]
    form["last_name"] = "Jansen-de Vries"
    form.submit(status=303)

    reads = entries(dbsession, org, "client.read")
    assert [(e.object_type, e.object_id, e.detail) for e in reads] == [
        ("client", str(client.id), {}), ("client", str(client.id), {"page": "edit"})]
    update, = entries(dbsession, org, "client.update")
    assert (update.user_id, update.user_name, update.address) == (admin.id, "Ada Admin",
                                                                  "192.0.2.10")
    assert update.detail == {"changed": ["last_name"]}
    assert "Jansen" not in str(update.detail)  # names of fields, not their values
    assert update.support_user_id is None


def test_the_client_list_records_which_clients_were_shown_not_the_search(admin_app, dbsession,
                                                                         org):
    shown = make_client(dbsession, org, "Jansen")
    make_client(dbsession, org, "Pietersen")
    admin_app.get("/clients", {"q": "jans"})
    listed, = entries(dbsession, org, "client.list")
    assert listed.detail == {"ids": [shown.id], "searched": True, "page": 1}


def test_a_settings_change_is_recorded_with_old_and_new_values(admin_app, dbsession, org):
    page = admin_app.get("/organisation/advanced")
    form = [f for f in page.forms.values() if f.action == ""][0]
    form["allow_remote_support"] = True
    form.submit(status=303)
    change, = entries(dbsession, org, "organisation.settings_update")
    assert change.detail == {"changed": {"allow_remote_support": [False, True]}}
    assert change.object_type == "organisation" and change.object_id == str(org.id)


def test_a_plugin_switch_on_the_console_is_recorded_in_the_organisations_chain(
        webtest, login, make_user, dbsession, org):
    console = webtest()
    provider = make_user(None, role=Role.superuser, name="Pat Provider")
    login(console, provider)
    token = console.get(f"/organisations/{org.id}").html.find(
        "input", attrs={"name": "csrf_token"})["value"]
    console.post(f"/organisations/{org.id}/plugins/hello",
                 {"csrf_token": token, "enabled": "1"}, status=303)
    switch, = entries(dbsession, org, "plugin.enable")
    assert (switch.user_id, switch.user_name, switch.object_type, switch.object_id) == (
        provider.id, "Pat Provider", "plugin", "hello")
    # The provider's own login is the console's business, not the organisation's.
    assert [e.action for e in entries(dbsession, org)] == ["plugin.enable"]


def test_logins_are_recorded_failed_and_successful(webtest, login, dbsession, org, admin):
    app = webtest("acme")
    form = app.get("/login").forms[0]
    form["email"], form["password"] = admin.email, "not the password"
    form.submit(status=200)
    login(app, admin)
    post(app, "/logout", {}, status=303)
    actions = [(e.action, e.object_id, e.user_name) for e in entries(dbsession, org)]
    assert actions == [("login.failure", str(admin.id), ""),
                       ("login.success", str(admin.id), "Ada Admin"),
                       ("logout", str(admin.id), "Ada Admin")]


def test_api_reads_with_the_key_are_recorded_under_the_key(webtest, dbsession, org):
    key = org.rotate_api_key()
    dbsession.flush()
    client = make_client(dbsession, org, "Jansen")
    webtest("acme").get(f"/api/v1/clients/{client.id}",
                        headers={"Authorization": f"Bearer {key}"}, status=200)
    read, = entries(dbsession, org, "client.read")
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
    assert all(e.prev_hash == p.hash for p, e in zip(chain, chain[1:]))
    head = dbsession.get(AuditChain, org.id)
    assert (head.length, head.head_hash) == (len(chain), chain[-1].hash)
    assert verify(dbsession).problem is None


def test_the_database_refuses_to_change_an_entry(admin_app, dbsession, org):
    admin_app.get("/clients")
    with pytest.raises(Exception, match="cannot be changed"):
        with dbsession.begin_nested():
            dbsession.execute(text("UPDATE audit_entry SET action = 'x'"))


@pytest.fixture
def trail(admin_app, dbsession, org):
    client = make_client(dbsession, org, "Jansen")
    for _ in range(4):
        admin_app.get(f"/clients/{client.id}")
    without_append_only_guard(dbsession)
    return entries(dbsession, org)


def test_an_edited_row_is_named(trail, dbsession):
    victim = trail[1]
    dbsession.execute(text("UPDATE audit_entry SET address = '198.51.100.1' WHERE id = :id"),
                      {"id": victim.id})
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
    assert f"the chain head records {len(trail)} entries but ends at entry" \
        f" {trail[-2].id}" in problem


def test_an_inserted_row_is_detected(trail, dbsession, org):
    seq = len(trail) + 1
    forged = AuditEntry(organisation_id=org.id, seq=seq, at=utcnow(), action="client.read",
                        address="", detail={}, prev_hash=trail[-1].hash, hash="0" * 64)
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
        assert cli("audit", "verify") == "OK: 4 audit entries in 1 chain(s) verified\n"
        with cli.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
            victim = connection.exec_driver_sql(
                "SELECT id FROM audit_entry WHERE seq = 2").scalar()
            connection.exec_driver_sql(
                "UPDATE audit_entry SET action = 'plugin.enable' WHERE id = ?", (victim,))
        cli("audit", "verify", code=1)
        assert f"entry {victim} (seq 2, organisation 1 (acme))" in cli.err
        assert "edited" in cli.err
    finally:
        cli.close()


@pytest.mark.skipif("sqlite" in __import__("os").environ.get("CONSULTROOM_TEST_DB", "sqlite"),
                    reason="SQLite has one writer at a time: nothing runs concurrently")
def test_concurrent_writers_keep_the_chain_linear(db_engine):
    with Session(db_engine) as session:
        org = Organisation(subdomain="audit-concurrency", name="Concurrency")
        session.add(org)
        session.commit()
        org_id = org.id
    threads, per_thread = 6, 8
    barrier = threading.Barrier(threads)
    failures = []

    def writer(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                with Session(db_engine) as session, session.begin():
                    append(session, [AuditEntry(
                        organisation_id=org_id, at=utcnow(), user_name=f"writer {n}",
                        action="test.append", address="", detail={"i": i})])
        except Exception as exc:  # reported below, with the thread's cause
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        with Session(db_engine) as session:
            assert verify(session).problem is None
            seqs = session.scalars(select(AuditEntry.seq).where(
                AuditEntry.organisation_id == org_id).order_by(AuditEntry.seq)).all()
            assert seqs == list(range(1, threads * per_thread + 1))
    finally:
        with Session(db_engine) as session, session.begin():
            without_append_only_guard(session)
            session.execute(delete(AuditEntry).where(AuditEntry.organisation_id == org_id))
            session.execute(delete(AuditChain).where(AuditChain.organisation_id == org_id))
            session.execute(delete(Organisation).where(Organisation.id == org_id))
            session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


# ---- the admin page


def table_rows(page):
    return [[td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page.html.select("table.audit tbody tr")]


def test_the_page_filters_and_pages(admin_app, dbsession, org):
    jansen = make_client(dbsession, org, "Jansen")
    other = make_client(dbsession, org, "Pietersen")
    for _ in range(3):
        admin_app.get(f"/clients/{jansen.id}")
    admin_app.get(f"/clients/{other.id}")

    assert not admin_app.get("/organisation/audit").html.select("p.error")
    page = admin_app.get("/organisation/audit",
                         {"action": "client.read", "object_id": str(jansen.id)})
    rows = table_rows(page)
    assert len(rows) == 3 and all(r[2] == "client.read" and r[3] == f"client {jansen.id}"
                                  for r in rows)
    # Nonsense in a filter is shown as a problem and left out, never a 500.
    assert len(table_rows(admin_app.get("/organisation/audit", {
        "action": "client.read", "object_id": "\x00", "date_to": "31-02-2020"}))) == 4
    assert table_rows(admin_app.get("/organisation/audit", {"date_from": "01-01-2000",
                                                             "date_to": "31-12-2000"})) == []

    for _ in range(55):
        admin_app.get(f"/clients/{other.id}")
    first = admin_app.get("/organisation/audit", {"action": "client.read"})
    assert len(table_rows(first)) == 50 and "Page 1 of 2" in first.text
    second = first.click(description="Next")
    assert len(table_rows(second)) == 9


def test_the_export_is_the_filtered_list_and_is_recorded(admin_app, dbsession, org, admin):
    client = make_client(dbsession, org, "Jansen")
    admin_app.get(f"/clients/{client.id}")
    admin_app.get("/clients")
    response = admin_app.get("/organisation/audit.csv", {"action": "client.read"})
    assert response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Entry", "Time", "User id", "User"]
    assert [(r[3], r[6], r[8]) for r in rows[1:]] == [("Ada Admin", "client.read",
                                                       str(client.id))]
    export, = entries(dbsession, org, "audit.export")
    assert export.detail == {"filters": {"action": "client.read"}, "rows": 1}


def test_only_organisation_admins_see_the_trail(webtest, login, make_user, dbsession, org,
                                                admin_app):
    assert "/organisation/audit" in [a["href"] for a in admin_app.get("/").html.select("nav a")]
    practitioner = quick_user(make_user, dbsession, org, role=Role.practitioner)
    app = webtest("acme")
    login(app, practitioner)
    app.get("/organisation/audit", status=403)
    app.get("/organisation/audit.csv", status=403)


def test_another_organisations_entries_are_never_shown(admin_app, webtest, login, make_user,
                                                       make_organisation, dbsession, org):
    make_organisation("other", name="Other Care")
    other = dbsession.scalar(select(Organisation).where(Organisation.subdomain == "other"))
    stranger = quick_user(make_user, dbsession, other, role=Role.org_admin, name="Otto Other")
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
    exported = list(csv.reader(io.StringIO(
        admin_app.get("/organisation/audit.csv").body.decode("utf-8-sig"))))[1:]
    assert exported and {row[0] for row in exported} <= ours
