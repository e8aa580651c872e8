"""A request's database session (consultroom.db.request_session) commits and
aborts with its transaction manager, whether its factory is
make_session_factory's (listeners on the session class) or another."""

import pytest
import transaction
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from consultroom.db import JoinableSession, request_session
from consultroom.tenancy.models import Organisation


def _factories(connection, app_factory):
    return {
        "make_session_factory": app_factory,
        "a plain sessionmaker": sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint"
        ),
    }


@pytest.mark.parametrize("factory", ["make_session_factory", "a plain sessionmaker"])
@pytest.mark.parametrize("commit", [True, False])
def test_changes_are_committed_or_aborted_with_the_manager(
    factory, commit, db_connection, _app_dbmaker, dbsession
):
    dbmaker = _factories(db_connection, _app_dbmaker)[factory]
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    session = request_session(dbmaker, manager)
    assert isinstance(session, JoinableSession) == (factory == "make_session_factory")
    session.add(Organisation(subdomain="joined", name="Joined"))
    session.flush()
    if commit:
        manager.commit()
    else:
        manager.abort()
    found = dbsession.scalar(select(Organisation).where(Organisation.subdomain == "joined"))
    assert (found is not None) == commit


def test_the_session_itself_may_not_commit(_app_dbmaker, db_connection):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    session = request_session(_app_dbmaker, manager)
    session.add(Organisation(subdomain="early", name="Early"))
    with pytest.raises(AssertionError, match="transaction manager"):
        session.commit()
    manager.abort()


def test_other_sessions_of_the_class_are_left_alone(_app_dbmaker, db_connection):
    session = _app_dbmaker()
    session.add(Organisation(subdomain="alone", name="Alone"))
    session.commit()  # not joined to any manager: its own commit
    assert session.scalar(select(Organisation.name).where(Organisation.subdomain == "alone"))
    session.close()
