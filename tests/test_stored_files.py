"""Stored files (staff photos, the organisation's logo, a walk-in widget's
pictures, background images, web page images, payment receipts) are
deferred columns: read only by the address that serves the file. Every
other address of the route table, opened by organisation B's admin (who
sees the most) and by an anonymous visitor, with one of everything stored
(tests/route_walk.py), reads at most whether a file is there."""

import re

import pytest
from sqlalchemy import LargeBinary, select

from consultroom.accounts.models import Role, User
from consultroom.db import Base

from route_walk import Visitor, committed_on_postgresql, fill, routes

db_connection = pytest.fixture(committed_on_postgresql, name="db_connection")
# What serves a file itself.
FILE_TYPES = ("image/", "application/pdf")


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


@pytest.mark.parametrize("role", [Role.org_admin, None], ids=["org_admin", "anonymous"])
def test_no_page_but_the_file_itself_reads_a_stored_file(
    app, world, webtest, login, dbsession, statements, role
):
    _a, b, *_, b_values = world
    files = _stored_files()
    assert {"user_account.photo", "organisation.logo", "payments_receipt.pdf"} <= set(files)
    if role is None:
        visitor = Visitor(webtest("beta"))
    else:
        session = webtest("beta")
        admin = select(User).where(User.organisation_id == b.id, User.role == role)
        login(session, dbsession.scalars(admin).first())
        dbsession.commit()  # the session stored (route_walk.committed_on_postgresql)
        visitor = Visitor(webtest("beta"), session_from=session)
    readers, served = [], 0
    for _name, pattern, _perms, _methods in routes(app.registry):
        for url in fill(pattern, b_values):
            statements.clear()
            response = visitor("GET", url)
            if response.content_type.startswith(FILE_TYPES):
                served += 1
            elif any(_reads_a_file(s, files) for s in statements):
                readers.append((url, response.status))
    assert readers == []
    assert served >= (3 if role is None else 5)  # the files themselves were read and served
