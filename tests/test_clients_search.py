"""Client search through its index (clients.search): partial names, numbers
and e-mail addresses found on both databases, the index kept in step with
changes, other organisations' clients never found, and the database really
answering from the index rather than reading every client."""

import pytest
from sqlalchemy import select, text

from consultroom.clients.models import Client
from consultroom.clients.search import search_clients

from clients_support import make_client


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme")


@pytest.fixture
def people(dbsession, org, make_organisation):
    other = make_organisation("other")
    made = {
        "jansen": make_client(
            dbsession, org, "Jansen", initials="P.", client_number="AB-1007", email="p@home.nl"
        ),
        "janssens": make_client(
            dbsession, org, "Janssens", initials="K.", email="kj@Example.org", client_number="C9"
        ),
        "vries": make_client(dbsession, org, "de Vriës", initials="A.", email="a.vries@mail.test"),
        # Same name in another organisation: never found from ours.
        "elsewhere": make_client(dbsession, other, "Jansen", client_number="AB-1007"),
    }
    return made


def found(dbsession, org, q):
    query = select(Client).where(Client.organisation_id == org.id).order_by(Client.last_name)
    return [c.last_name for c in dbsession.scalars(search_clients(dbsession, query, q))]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("jans", ["Jansen", "Janssens"]),  # part of the name
        ("ANSSEN", ["Janssens"]),  # any case
        ("vriës", ["de Vriës"]),  # beyond ASCII
        ("e vr", ["de Vriës"]),  # both words occur
        ("b-100", ["Jansen"]),  # part of the client number
        ("ab-1007", ["Jansen"]),
        ("C9", ["Janssens"]),  # a number shorter than a trigram
        ("example.ORG", ["Janssens"]),  # part of the e-mail address
        ("vries@mail", ["de Vriës"]),
        ("p. jansen", ["Jansen"]),  # every word must match, each in any column
        ("jansen kj@", []),  # ... not only one of them
        ('"jans"', []),  # quotes are text, not query syntax
        ("jans OR vries", []),
        ("%", []),
        ("nobody", []),
    ],
)
def test_search_matches_parts_of_names_numbers_and_addresses(dbsession, org, people, q, expected):
    assert found(dbsession, org, q) == expected


def test_the_index_follows_changes_and_deletions(dbsession, org, people):
    people["jansen"].last_name = "Bakker"
    people["janssens"].email = "new@elsewhere.test"
    dbsession.flush()
    assert found(dbsession, org, "jans") == ["Janssens"]
    assert found(dbsession, org, "bakk") == ["Bakker"]
    assert found(dbsession, org, "example") == []
    assert found(dbsession, org, "elsewhere.test") == ["Janssens"]
    dbsession.delete(people["janssens"])
    dbsession.flush()
    assert found(dbsession, org, "jans") == []


def test_a_bulk_insert_is_indexed_too(dbsession, org):
    """Rows written without the ORM (an import, a script) are found as well."""
    dbsession.execute(
        Client.__table__.insert(),
        [
            {"organisation_id": org.id, "last_name": f"Bulk {n}", "portal_token": f"t{n}"}
            for n in range(3)
        ],
    )
    assert found(dbsession, org, "bulk 2") == ["Bulk 2"]


def _plan(dbsession, statement):
    compiled = statement.compile(dbsession.get_bind(), compile_kwargs={"literal_binds": True})
    if dbsession.get_bind().dialect.name == "sqlite":
        rows = dbsession.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return " ".join(row[-1] for row in rows)
    # A handful of rows would be read directly: make the planner say whether it can
    # use the index at all.
    dbsession.execute(text("SET LOCAL enable_seqscan = off"))
    return " ".join(row[0] for row in dbsession.execute(text(f"EXPLAIN {compiled}")))


def test_the_search_is_answered_from_the_index(dbsession, org, people):
    # Without the organisation's condition, whose own index would win on a
    # handful of rows.
    query = search_clients(dbsession, select(Client.id), "janss")
    plan = _plan(dbsession, query)
    if dbsession.get_bind().dialect.name == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and "client_search" in plan, plan
    else:
        assert "client_search_text" in plan, plan
