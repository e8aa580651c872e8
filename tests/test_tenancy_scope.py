"""Defence in depth for tenancy (consultroom.db.scope): a query that forgets
``organisation_id`` still reads only the request's organisation's rows; on
the console it refuses, unless it opts out; and the scope ends with the
request. The queries here are unfiltered on purpose."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import aliased

from consultroom.accounts.models import Role, User
from consultroom.app import make_config
from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db import Base, utcnow
from consultroom.db.models import UNSCOPED, import_all_models
from consultroom.db.scope import (
    SCOPE,
    OrganisationScoped,
    UnscopedQuery,
    all_organisations,
    organisation_scope,
)
from consultroom.plugins.registry import PluginRegistry
from consultroom.sessions import prune
from consultroom.sessions.models import StoredSession
from consultroom.tenancy.models import Organisation
from consultroom.testing import BASE_DOMAIN


class World:
    """Organisations A and B with a client each, and an appointment of A's
    that points at B's client: a reference no hand-written code makes, to
    see what a lazy load does with it."""

    def __init__(self, dbsession, make_organisation, make_user):
        self.a, self.b = make_organisation("alpha"), make_organisation("beta")
        self.a_client, self.b_client = (
            Client(organisation_id=org.id, last_name=org.name) for org in (self.a, self.b)
        )
        dbsession.add_all([self.a_client, self.b_client])
        dbsession.flush()
        self.crossed = Appointment(
            organisation_id=self.a.id, client_id=self.b_client.id, starts_at=utcnow()
        )
        dbsession.add(self.crossed)
        self.a_user = make_user(self.a)
        self.superuser = make_user(None, role=Role.superuser)
        dbsession.flush()
        # Read afresh below, not from what this session made.
        dbsession.expunge_all()


@pytest.fixture
def world(dbsession, make_organisation, make_user):
    return World(dbsession, make_organisation, make_user)


def _client_ids(dbsession, statement=None):
    return set(dbsession.scalars(statement if statement is not None else select(Client.id)))


# ---- every model chooses


def _core_tables():
    core = set()
    for mapper in Base.registry.mappers:
        if mapper.class_.__module__.startswith("consultroom."):
            core.add(mapper.local_table)
            core.update(r.secondary for r in mapper.relationships if r.secondary is not None)
    return core


def test_every_table_is_scoped_or_says_why_not():
    import_all_models()
    scoped = {
        m.local_table for m in Base.registry.mappers if issubclass(m.class_, OrganisationScoped)
    }
    core = {table.name: table for table in _core_tables()}
    for name, table in core.items():
        assert (table in scoped) != (name in UNSCOPED), name
    assert set(UNSCOPED) <= set(core), "UNSCOPED names tables that do not exist"
    # Every scoped model has the column, and no unscoped one has it but the
    # tenants' own table and the audit chain's heads.
    assert all("organisation_id" in table.c for table in scoped)
    having = {name for name in UNSCOPED if "organisation_id" in core[name].c}
    assert having == {"audit_chain"}


# ---- a session in an organisation's scope


def test_an_unfiltered_query_reads_only_the_organisations_rows(world, dbsession):
    with organisation_scope(dbsession, world.a.id):
        other = aliased(Client)
        assert _client_ids(dbsession) == {world.a_client.id}
        assert _client_ids(dbsession, select(other.id)) == {world.a_client.id}
        assert dbsession.scalar(select(func.count()).select_from(Client)) == 1
        assert dbsession.get(Client, world.b_client.id) is None
        joined = select(Appointment.id, Client.id).join(Client, Appointment.client_id == Client.id)
        assert dbsession.execute(joined).all() == []
        assert dbsession.get(Organisation, world.b.id) is None
        assert set(dbsession.scalars(select(Organisation.id))) == {world.a.id}
    assert _client_ids(dbsession) >= {world.a_client.id, world.b_client.id}


def test_lazy_loads_are_filtered(world, dbsession):
    with organisation_scope(dbsession, world.a.id):
        appointment = dbsession.get(Appointment, world.crossed.id)
        assert appointment.client_id == world.b_client.id
        assert appointment.client is None


def test_one_statement_object_reads_each_scopes_own_rows(world, dbsession):
    # A statement built once and run on many sites (the shell's counts
    # keep theirs): its copy with the criteria is kept too, and must not
    # keep the first organisation's rows.
    statement = select(Client.id)
    for org, client in (
        (world.a, world.a_client),
        (world.b, world.b_client),
        (world.a, world.a_client),
    ):
        with organisation_scope(dbsession, org.id):
            assert set(dbsession.scalars(statement)) == {client.id}


def test_a_lazy_load_keeps_to_the_scope_it_was_read_in_or_is_refused(world, dbsession):
    with organisation_scope(dbsession, world.a.id):
        appointment = dbsession.get(Appointment, world.crossed.id)
        with all_organisations(dbsession):
            assert appointment.client is None
        dbsession.expire(appointment, ["client"])
    # Out of every scope, the criteria it was read with want the
    # organisation: refused, rather than loaded unfiltered.
    with pytest.raises(StatementError, match="consultroom_scope_organisation_id"):
        _ = appointment.client


def test_bulk_updates_and_deletes_touch_only_the_organisations_rows(world, dbsession):
    with organisation_scope(dbsession, world.a.id):
        changed = dbsession.execute(
            update(Client).values(language="nl").execution_options(synchronize_session=False)
        )
        assert changed.rowcount == 1
        gone = dbsession.execute(
            delete(Client)
            .where(Client.id == world.b_client.id)
            .execution_options(synchronize_session=False)
        )
        assert gone.rowcount == 0
    languages = dict(dbsession.execute(select(Client.id, Client.language)).all())
    assert (languages[world.a_client.id], languages[world.b_client.id]) == ("nl", "en")


# ---- no organisation in scope: the console


def test_without_an_organisation_a_query_of_organisations_rows_raises(world, dbsession):
    with organisation_scope(dbsession, None):
        joined = select(Organisation).join(Client, Client.organisation_id == Organisation.id)
        for statement in (
            select(Client),
            select(Client.id),
            joined,
            update(Client).values(language="nl"),
        ):
            with pytest.raises(UnscopedQuery, match="client"):
                dbsession.execute(statement)
        # The console's own rows: the superusers, not the staff.
        assert set(dbsession.scalars(select(User.id))) == {world.superuser.id}
        assert dbsession.get(User, world.a_user.id) is None
        with all_organisations(dbsession):
            assert _client_ids(dbsession) >= {world.a_client.id, world.b_client.id}
            assert dbsession.get(User, world.a_user.id) is not None
        with pytest.raises(UnscopedQuery):
            dbsession.execute(select(Client))


def test_the_workers_pruning_reaches_every_site(world, dbsession):
    ended = utcnow() - timedelta(minutes=1)
    dbsession.add_all(
        [
            StoredSession(id_hash=f"{n}" * 64, organisation_id=org, expires_at=ended)
            for n, org in ((1, world.a.id), (2, None))
        ]
    )
    dbsession.flush()
    with organisation_scope(dbsession, None):  # the worker's request is the console's
        prune(dbsession)
    assert dbsession.scalar(select(func.count()).select_from(StoredSession)) == 0


# ---- through requests


@pytest.fixture(scope="module")
def probed(app_settings, _app_dbmaker, db_engine):
    """The application with two throw-away views that forget the
    organisation; ``probed.sessions``: the sessions their requests used."""
    sessions = []

    def organisation_view(request):
        sessions.append(request.dbsession)
        appointment = request.dbsession.get(Appointment, int(request.GET["appointment"]))
        return {
            "clients": sorted(request.dbsession.scalars(select(Client.id))),
            "lazy": appointment
            and appointment.client_id
            and (appointment.client.id if appointment.client else None),
        }

    def console_view(request):
        sessions.append(request.dbsession)
        try:
            request.dbsession.scalars(select(Client.id)).all()
        except UnscopedQuery:
            refused = True
        else:
            refused = False
        with all_organisations(request.dbsession):  # this test's opt-out
            clients = sorted(request.dbsession.scalars(select(Client.id)))
        return {"refused": refused, "clients": clients}

    config = make_config(app_settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker)
    for name, view, site in (
        ("probe_org", organisation_view, "organisation"),
        ("probe_console", console_view, "console"),
    ):
        config.add_route(name, f"/_probe/{name}", site=site)
        config.add_view(view, route_name=name, renderer="json")
    app = config.make_wsgi_app()
    app.sessions = sessions
    return app


def _get(app, subdomain, path):
    from webtest import TestApp

    host = f"{subdomain}.{BASE_DOMAIN}" if subdomain else BASE_DOMAIN
    return TestApp(app, extra_environ={"HTTP_HOST": host}).get(path).json


def test_an_organisations_request_reads_only_its_rows(probed, db_connection, world, dbsession):
    got = _get(probed, "alpha", f"/_probe/probe_org?appointment={world.crossed.id}")
    assert got == {"clients": [world.a_client.id], "lazy": None}
    assert _get(probed, "beta", "/_probe/probe_org?appointment=0")["clients"] == [world.b_client.id]


def test_a_console_request_must_opt_out(probed, db_connection, world, dbsession):
    got = _get(probed, None, "/_probe/probe_console")
    assert got["refused"] is True
    assert {world.a_client.id, world.b_client.id} <= set(got["clients"])


def test_the_scope_ends_with_the_request(probed, db_connection, world, dbsession):
    probed.sessions.clear()
    _get(probed, "alpha", "/_probe/probe_org?appointment=0")
    assert all(SCOPE not in session.info for session in probed.sessions)
    assert SCOPE not in dbsession.info
    assert _client_ids(dbsession) >= {world.a_client.id, world.b_client.id}
