"""Shared helpers of the clients, segregation and participants tests."""

import csv
import io
import re

from consultroom.clients.models import Client, Group, Participant
from consultroom.sessions.store import COOKIE

TOKEN_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf(app):
    """The CSRF token of ``app``'s staff session, from a page, as a browser
    has it. A session keeps its token, so it is read once per session
    cookie: a page for every POST was a good part of the tests that post."""
    session = app.cookies.get(COOKIE)
    known = getattr(app, "csrf_of_session", None)
    if known is None or known[0] != session:
        token = TOKEN_FIELD.search(app.get("/profile").text).group(1)
        app.csrf_of_session = known = (session, token)
    return known[1]


def post(app, url, data, **kw):
    """POST ``data`` (lists for multi-selects) with a valid CSRF token, the
    way a browser (or someone crafting requests) would send it."""
    fields = [("csrf_token", csrf(app))]
    for name, value in data.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            fields.append((name, str(item)))
    return app.post(url, fields, **kw)


def make_client(dbsession, org, last_name, departments=(), practitioners=(), **kw):
    client = Client(
        organisation_id=org.id,
        last_name=last_name,
        departments=list(departments),
        practitioners=list(practitioners),
        **kw,
    )
    dbsession.add(client)
    dbsession.flush()
    return client


def make_group(dbsession, org, name):
    group = Group(organisation_id=org.id, name=name)
    dbsession.add(group)
    dbsession.flush()
    return group


def make_participant(dbsession, org, last_name, groups=(), **kw):
    person = Participant(organisation_id=org.id, last_name=last_name, groups=list(groups), **kw)
    dbsession.add(person)
    dbsession.flush()
    return person


def listed(page):
    """The names in the first column of a list page's table."""
    return [row.find("td").get_text(strip=True) for row in page.html.select("tbody tr")]


def errors(page):
    """{field id: [error texts]} of a form page."""
    found = {}
    for help_block in page.html.select("div[id$='-help']"):
        texts = [p.get_text() for p in help_block.select("p.error")]
        if texts:
            found[help_block["id"][: -len("-help")]] = texts
    return found


def flashes(page):
    return [p.get_text() for p in page.html.select("p.flash")]


def export(app, **params):
    response = app.get("/clients/export.csv", params=params)
    text = response.body.decode("utf-8-sig")
    return response, list(csv.reader(io.StringIO(text)))
