"""A request that only reads commits its transaction, as one that writes
does: psycopg forgets every statement it has prepared on a connection at
each rollback, and zope.sqlalchemy rolled read-only transactions back, so on
PostgreSQL each page's statements were parsed and planned afresh. (Here each
request is a savepoint of the test's transaction: released, not rolled
back.)"""

import pytest
from sqlalchemy import text


@pytest.fixture
def as_practitioner(webtest, login, make_organisation, make_user):
    org = make_organisation("clinic")
    app = webtest("clinic")
    login(app, make_user(org))
    return app


# A page that writes nothing once the session's first page has been shown
# (no audit entry: it shows no client's record).
READ_ONLY_PAGE = "/waiting-room"


def test_a_page_that_only_reads_is_committed_not_rolled_back(as_practitioner, statements):
    as_practitioner.get(READ_ONLY_PAGE)
    statements.clear()
    as_practitioner.get(READ_ONLY_PAGE)
    assert not [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [s for s in statements if s.startswith("RELEASE SAVEPOINT")]
    assert not [s for s in statements if s.startswith("ROLLBACK")]


@pytest.mark.postgresql_only
def test_the_statements_of_a_page_stay_prepared_from_request_to_request(
    as_practitioner, db_connection
):
    # psycopg prepares a statement at its sixth run on a connection.
    for _ in range(6):
        as_practitioner.get(READ_ONLY_PAGE)
    prepared = db_connection.execute(text("SELECT statement FROM pg_prepared_statements"))
    assert any("FROM server_session" in statement for (statement,) in prepared)
