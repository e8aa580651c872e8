"""Bad input never gives a 500: the whole route table and every form on it,
walked with NUL bytes, invalid UTF-8, control characters, extreme dates and
huge numbers.

Each role (organisation admin and practitioner, an anonymous visitor, the
console's superuser) opens every route with real ids (tests/route_walk.py)
and submits every form it is shown: once per bad text in all its text-like
fields at once, and once per text-like field and bad date or number, the
other fields as the page filled them in. Every route is also requested with
bad bytes in its path and query, and every REST API address gets bad JSON.
New routes and forms are covered automatically. A refusal (400, a form
error, 404, 422) is fine; a 500 or an escaping exception is not.
"""

import json
from types import SimpleNamespace
from urllib.parse import urljoin

import pytest
import wtforms
from sqlalchemy import select
from webob.multidict import MultiDict
from webtest.forms import Checkbox, File, MultipleSelect, Radio, Select, Submit

from consultroom.accounts.models import Role, User
from consultroom.api import schemas
from consultroom.realtime.connection import parse
from consultroom.tenancy.models import Department
from consultroom.web.forms import Form

from route_walk import (
    PLACEHOLDER,
    STAR,
    KeyVisitor,
    Visitor,
    committed_on_postgresql,
    fill,
    routes,
)

db_connection = pytest.fixture(committed_on_postgresql, name="db_connection")

INVALID_UTF8 = b"\xff\xfe\xc0\x80"
BAD_TEXT = [
    "\x00",
    "a\x00b",
    INVALID_UTF8,
    "\x1b[31m\x07\x08",
    "a\r\nBcc: x@example.org",
    "x" * 20000,
]
BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    "31-12-9999",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "99:99",
]
BAD_NUMBERS = [str(10**30), str(-(10**30)), str(2**31), "1e309", "NaN"]
# In a path segment or query value (already %-encoded): not UTF-8, NUL, a
# surrogate, a number no column holds.
BAD_URL_PARTS = ["%ff", "%00", "%ed%a0%80", "1" * 30]
# In a JSON body, as any field's value; and bodies that are not JSON objects.
BAD_JSON_VALUES = [
    "\x00",
    "a\x00b",
    "\x1b\x07",
    "x" * 20000,
    10**30,
    -(10**30),
    2**31,
    1e308,
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    [[[[["deep"]]]]],
    {"nested": None},
    [2**63] * 3,
]
BAD_BODIES = [
    b'{"last_name": "\xff\xfe"}',
    b"[" * 100_000,
    b'{"a": ' * 10_000,
    b"\x00",
    b'{"client_id": 1e400}',
]
# Forms whose submission ends the session the walk is made with.
SESSION_ENDING = ("/logout", "/session/end-all", "/support/end")
NOT_TEXT = (Checkbox, File, MultipleSelect, Radio, Select, Submit)


class Walker:
    """A visitor that keeps every request answered with a 500 or an
    exception, with ``bad``: what was bad in it."""

    def __init__(self, visitor):
        self.visitor = visitor
        self.failures = []

    def __call__(self, method, url, bad=None, **kw):
        try:
            response = self.visitor(method, url, **kw)
        except Exception as exc:  # noqa: BLE001  (an escaping exception is a 500 too)
            self.failures.append((method, url, bad, repr(exc)[:200]))
            return None
        if response.status_int >= 500:
            self.failures.append((method, url, bad, response.status))
        return response


def _pages(app, walker, values):
    """Every HTML page (url, route pattern, response) the walker may open."""
    for _name, pattern, _perms, _methods in routes(app.registry):
        for url in fill(pattern, values):
            response = walker("GET", url)
            if (
                response is not None
                and response.status_int == 200
                and response.content_type == "text/html"
            ):
                yield url, pattern, response


def _text_fields(form):
    return [
        name
        for name, fields in form.fields.items()
        if name and name != "csrf_token" and not isinstance(fields[0], NOT_TEXT)
    ]


def _forms(app, walker, values):
    """(action url, form) for every distinct form the walker is shown (one
    page per route pattern is enough)."""
    seen = set()
    for url, pattern, page in _pages(app, walker, values):
        for form in page.forms.values():
            action = urljoin(url, form.action or url)
            key = (pattern, form.method.upper(), tuple(form.fields))
            if key in seen or action.endswith(SESSION_ENDING) or not _text_fields(form):
                continue
            seen.add(key)
            yield action, form


def _submit(walker, action, form, names, value):
    """``form`` with ``value`` (str, or bytes sent as they are) in the
    fields ``names``."""
    fields = [(n, value if n in names else v) for n, v in form.submit_fields()]
    bad = f"{names}={value!r:.30}"
    if form.method.upper() == "GET":
        return walker("GET", action, bad, params=fields)
    content_type = form.enctype if form.enctype.startswith("multipart") else None
    return walker("POST", action, bad, params=fields, content_type=content_type)


def _bad_urls(app, values):
    """Every route with bad bytes in each placeholder, after its path and in
    its query (the language switch too)."""
    for _name, pattern, _perms, _methods in routes(app.registry):
        url = fill(pattern, values)[0]
        yield url.rstrip("/") + "/%ff"
        for part in BAD_URL_PARTS:
            for match in PLACEHOLDER.finditer(pattern):
                bad = pattern[: match.start()] + part + pattern[match.end() :]
                yield fill(STAR.sub(part, bad), values)[0]
            yield f"{url}?_LOCALE_={part}"
            yield f"{url}?q={part}&page={part}&date_from={part}&next={part}"


@pytest.fixture
def walker(webtest, login, world, dbsession):
    """``walker(role)``: a Walker with that role's session (None: anonymous)
    on organisation B, or on the console for the superuser."""
    _a, b, _a_admin, superuser, _values = world

    def make(role):
        host = "" if role == Role.superuser else "beta"
        if role is None:
            return Walker(Visitor(webtest(host)))
        user = (
            superuser
            if role == Role.superuser
            else dbsession.scalars(
                select(User).where(User.organisation_id == b.id, User.role == role)
            ).first()
        )
        session = webtest(host)
        login(session, user)
        dbsession.commit()  # the session stored (route_walk.committed_on_postgresql)
        return Walker(Visitor(webtest(host), session_from=session))

    return make


ROLES = [Role.org_admin, Role.practitioner, Role.superuser, None]


def _role_id(role):
    return role.name if role else "anonymous"


@pytest.mark.parametrize("role", ROLES, ids=_role_id)
def test_no_form_gives_a_500(app, world, walker, role):
    *_, b_values = world
    walk = walker(role)
    forms = 0
    for action, form in _forms(app, walk, b_values):
        forms += 1
        names = _text_fields(form)
        for value in BAD_TEXT:
            _submit(walk, action, form, names, value)
        for name in names:
            for value in BAD_DATES + BAD_NUMBERS:
                _submit(walk, action, form, [name], value)
    assert forms >= 1
    assert walk.failures == []
    if role is not None:  # the walk was made with the session all along
        assert walk("GET", "/" if role == Role.superuser else "/profile").status_int == 200


# The address is refused before who asks matters: the organisation's pages
# and the console's, with a session (and so a menu) on the error page.
@pytest.mark.parametrize("role", [Role.org_admin, Role.superuser], ids=_role_id)
def test_no_address_gives_a_500(app, world, walker, role):
    *_, b_values = world
    walk = walker(role)
    for url in _bad_urls(app, b_values):
        walk("GET", url)
    for _name, pattern, _perms, _methods in routes(app.registry):
        url = fill(pattern, b_values)[0]
        for body in ("name=%ff&text=x", "name=x&text=%00"):
            walk(
                "POST",
                url,
                params=f"csrf_token={walk.visitor.csrf}&{body}",
                content_type="application/x-www-form-urlencoded",
            )
    walk("GET", "/", headers={"Cookie": walk.visitor.headers["Cookie"] + "; _LOCALE_=\xff\xfe"})
    walk("GET", "/", headers={"Accept-Language": "\xff\xfe;q=2"})
    assert walk.failures == []


def _api_bodies():
    """(bad, JSON body) with each bad value in each field of each API input."""
    for model in (schemas.ClientCreate, schemas.AppointmentCreate):
        for field in model.model_fields:
            for value in BAD_JSON_VALUES:
                yield f"{field}={value!r:.30}", json.dumps({field: value}).encode()
    for body in BAD_BODIES:
        yield repr(body[:30]), body


def test_no_api_request_gives_a_500(app, world, webtest, dbsession):
    _a, b, *_, b_values = world
    key = b.rotate_api_key()
    dbsession.commit()
    walk = Walker(KeyVisitor(webtest("beta"), key))
    api = [
        pattern
        for _name, pattern, _perms, _methods in routes(app.registry)
        if pattern.startswith("/api/")
    ]
    for pattern in api:
        url = fill(pattern, b_values)[0]
        for bad, body in _api_bodies():
            for method in ("POST", "PATCH"):
                walk(method, url, bad, params=body, content_type="application/json")
        for part in BAD_URL_PARTS:
            walk("GET", f"{url}?q={part}&limit={part}&offset={part}&from={part}")
    assert len(api) >= 5
    assert walk.failures == []


# -- one test per kind of bad input that was a 500 ------------------------------------


@pytest.fixture
def admin(make_organisation, make_user, webtest, login):
    """An organisation admin's Visitor (which, unlike WebTest's cookie jar,
    sends a session cookie with an address that is not UTF-8)."""
    org = make_organisation("acme")
    session = webtest("acme")
    login(session, make_user(org, role=Role.org_admin))
    return Visitor(webtest("acme"), session_from=session)


@pytest.mark.parametrize("url", ["/clients?q=%ff", "/clients?_LOCALE_=%ff", "/portal/%00"])
def test_a_query_not_utf8_or_a_path_with_nul_is_a_400(admin, url):
    response = admin("GET", url)
    assert response.status_int == 400
    assert "characters that cannot be used" in response.text


def test_an_address_that_is_not_utf8_is_a_400_page(admin):
    response = admin("GET", "/clients/%ff")
    assert response.status_int == 400
    assert "Invalid address" in response.text


def test_nul_in_a_form_is_a_form_error_and_never_reaches_the_database(admin, dbsession):
    response = admin("POST", "/departments/new", {"csrf_token": admin.csrf, "name": "Care\x00"})
    assert response.status_int == 200
    assert "Remove the special (control) characters from this field." in response.text
    assert dbsession.scalars(select(Department.name)).all() == []


def test_a_form_body_that_is_not_utf8_is_refused_not_mangled(admin, dbsession):
    response = admin(
        "POST",
        "/departments/new",
        f"csrf_token={admin.csrf}&name=Care%ff",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_int == 400
    assert dbsession.scalars(select(Department.name)).all() == []


def test_the_api_answers_a_query_that_is_not_utf8_itself(webtest, make_organisation, dbsession):
    key = make_organisation("acme").rotate_api_key()
    dbsession.flush()
    response = webtest("acme").get(
        "/api/v1/clients?q=%ff&_LOCALE_=%ff", status=400, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.json["error"] == "The query string is not valid UTF-8."


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_at_the_end_of_the_calendar_is_a_form_error(admin, day):
    page = admin("GET", f"/organisation/audit?date_from={day}&date_to={day}")
    assert page.status_int == 200
    assert "Check the year: enter a date between 1900 and 2200." in page.text


def test_a_number_no_column_holds_is_a_form_error():
    class Numbers(Form):
        n = wtforms.IntegerField()

    form = Numbers(SimpleNamespace(method="POST", POST=MultiDict(n=str(10**30)), locale_name="en"))
    assert not form.validate()
    assert form.n.errors == ["This number is too large."]


def test_websocket_json_nested_too_deeply_is_malformed_not_a_crash():
    assert parse("[" * 100_000) is None
    assert parse('{"type": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}") is None
