"""consultroom.db.cache.ResultCache: the rows of a read statement, kept per
statement, parameters and tenancy scope until a table it reads changes;
never for a statement that reads a table the cache was not made for, nor
for a session that wrote one of its tables and has not committed."""

import pytest
from sqlalchemy import select

from consultroom.appointments.models import Appointment
from consultroom.clients.models import Client
from consultroom.db.cache import ResultCache
from consultroom.db.scope import organisation_scope


@pytest.fixture
def cache():
    return ResultCache({"client"})


def _names(org):
    return select(Client.last_name).where(Client.organisation_id == org.id).order_by(Client.id)


def _sent(statements):
    return [sql for sql in statements if "FROM client" in sql]


def _add(dbsession, org, name):
    dbsession.add(Client(organisation_id=org.id, last_name=name))
    dbsession.flush()


def test_rows_are_kept_until_their_table_changes(cache, dbsession, make_organisation, statements):
    org = make_organisation()
    _add(dbsession, org, "Aalders")
    dbsession.commit()
    statements.clear()
    for _ in range(2):
        assert cache.rows(dbsession, _names(org)) == (("Aalders",),)
    assert len(_sent(statements)) == 1

    _add(dbsession, org, "Bakker")
    dbsession.commit()
    assert cache.rows(dbsession, _names(org)) == (("Aalders",), ("Bakker",))
    assert len(_sent(statements)) == 2


def test_a_session_that_wrote_the_table_reads_it_itself(
    cache, dbsession, make_organisation, statements
):
    org = make_organisation()
    dbsession.commit()
    assert cache.rows(dbsession, _names(org)) == ()
    _add(dbsession, org, "Aalders")  # not committed: only this session sees it
    for _ in range(2):
        assert cache.rows(dbsession, _names(org)) == (("Aalders",),)
    assert len(_sent(statements)) == 3
    assert len(cache) == 0


def test_a_statement_reading_another_table_is_not_kept(
    cache, dbsession, make_organisation, statements
):
    org = make_organisation()
    dbsession.commit()
    joined = _names(org).join(Appointment, Appointment.client_id == Client.id)
    for _ in range(2):
        assert cache.rows(dbsession, joined) == ()
    assert len(_sent(statements)) == 2


def test_each_scope_has_its_own_rows(cache, dbsession, make_organisation):
    ours, theirs = make_organisation(), make_organisation()
    _add(dbsession, ours, "Aalders")
    dbsession.commit()
    assert cache.rows(dbsession, _names(ours)) == (("Aalders",),)
    with organisation_scope(dbsession, theirs.id):  # the same statement, on their site
        assert cache.rows(dbsession, _names(ours)) == ()
    with organisation_scope(dbsession, ours.id):
        assert cache.rows(dbsession, _names(ours)) == (("Aalders",),)
