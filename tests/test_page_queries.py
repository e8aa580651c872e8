"""What each address asks of the database, walked over the whole route
table as organisation B's admin (who sees the most) and as an anonymous
visitor, with one of everything stored (tests/route_walk.py):

* stored files (staff photos, the organisation's logo, a walk-in widget's
  pictures, background images, web page images, payment receipts, images a
  client answered a questionnaire with) are
  deferred columns, read only by the address that serves the file; any
  other reads at most whether a file is there;
* no request sends the same statement with the same parameters twice (a
  row looked up again, a list worked out twice). The audit chain's own
  statements are left out: in tests its entries are linked in the request
  (consultroom.audit), whose first link makes the chain's row and reads it
  again;
* no request reads with the same statement again with other parameters:
  a list reads its rows' relations with the list, not row by row (the walk
  stores two or more of each listed thing). The audit trail's filters read
  one statement per kind of facet, a fixed number."""

import collections
import re

import pytest
from sqlalchemy import LargeBinary, select

from consultroom.accounts.models import Role, User
from consultroom.db import Base

from route_walk import Visitor, committed_on_postgresql, fill, routes

db_connection = pytest.fixture(committed_on_postgresql, name="db_connection")
# What serves a file itself.
FILE_TYPES = ("image/", "application/pdf")
# A test's savepoints, and the audit chain's linking (above).
NOT_COUNTED = re.compile(r"(SAVEPOINT|RELEASE|ROLLBACK TO)\b|SELECT audit_chain\.")


def _stored_files():
    """``table.column`` of every deferred binary column."""
    return sorted(
        f"{prop.columns[0].table.name}.{prop.key}"
        for mapper in Base.registry.mappers
        for prop in mapper.column_attrs
        if prop.deferred and isinstance(prop.columns[0].type, LargeBinary)
    )


def _reads_a_file(statement, files):
    return any(re.search(rf"\b{re.escape(f)}\b(?! IS NOT NULL)", statement) for f in files)


def _repeated(sent):
    counts = collections.Counter(
        (statement, repr(parameters))
        for statement, parameters in sent
        if not NOT_COUNTED.match(statement)
    )
    return [" ".join(statement.split())[:120] for (statement, _), n in counts.items() if n > 1]


def _row_by_row(sent):
    """Reads sent again with other parameters (an N+1)."""
    counts = collections.Counter(
        statement
        for statement, _parameters in set((s, repr(p)) for s, p in sent)
        if statement.lstrip().startswith("SELECT") and not NOT_COUNTED.match(statement)
    )
    return [" ".join(statement.split())[:120] for statement, n in counts.items() if n > 1]


@pytest.mark.parametrize("role", [Role.org_admin, None], ids=["org_admin", "anonymous"])
def test_each_address_reads_no_stored_file_but_its_own_and_nothing_twice(
    app, world, webtest, login, dbsession, sent, role
):
    _a, b, *_, b_values = world
    files = _stored_files()
    assert {
        "user_account.photo",
        "organisation.logo",
        "payments_receipt.pdf",
        "questionnaires_image.data",
    } <= set(files)
    if role is None:
        visitor = Visitor(webtest("beta"))
    else:
        session = webtest("beta")
        admin = select(User).where(User.organisation_id == b.id, User.role == role)
        login(session, dbsession.scalars(admin).first())
        dbsession.commit()  # the session stored (route_walk.committed_on_postgresql)
        visitor = Visitor(webtest("beta"), session_from=session)
    file_readers, repeaters, row_by_row, served = [], [], [], 0
    for _name, pattern, _perms, _methods in routes(app.registry):
        for url in fill(pattern, b_values):
            sent.clear()
            response = visitor("GET", url)
            if response.content_type.startswith(FILE_TYPES):
                served += 1
            elif any(_reads_a_file(statement, files) for statement, _ in sent):
                file_readers.append((url, response.status))
            if _repeated(sent):
                repeaters.append((url, _repeated(sent)))
            if _row_by_row(sent):
                row_by_row.append((url, _row_by_row(sent)))
    assert file_readers == []
    assert not repeaters, "\n".join(map(str, repeaters))
    assert not row_by_row, "\n".join(map(str, row_by_row))
    assert served >= (3 if role is None else 5)  # the files themselves were read and served


def test_a_repeated_statement_is_found():
    select_user = "SELECT user_account.name FROM user_account WHERE user_account.id = ?"
    assert _repeated([(select_user, (1,)), (select_user, (1,))]) == [select_user]
    assert _repeated([(select_user, (1,)), (select_user, (2,))]) == []
    assert _repeated([("SAVEPOINT sa_savepoint_1", ())] * 2) == []
    assert _repeated([("SELECT audit_chain.length FROM audit_chain", (1,))] * 2) == []


def test_a_read_row_by_row_is_found():
    select_user = "SELECT user_account.name FROM user_account WHERE user_account.id = ?"
    assert _row_by_row([(select_user, (1,)), (select_user, (2,))]) == [select_user]
    assert _row_by_row([(select_user, (1,)), (select_user, (1,))]) == []  # _repeated's
