"""Tenant isolation, walked over the whole route table.

Every route (core and plugin) is requested with organisation A's staff
session against organisation B: on B's subdomain, and on A's own subdomain
with B's object IDs in the URL. Neither may succeed. Every protected route is
also requested without a session. New routes are covered automatically.
"""
import re

import pytest

from consultroom.accounts.models import Role
from consultroom.tenancy.models import Department

PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
STAR = re.compile(r"\*\w+")
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64  # served as stored; never decoded


def _routes(registry):
    """(name, pattern, permissions of its views) for every route."""
    introspector = registry.introspector
    result = []
    for intr in introspector.get_category("routes"):
        route = intr["introspectable"]
        views = [r for r in introspector.related(route) if r.category_name == "views"]
        result.append((route["name"], route["pattern"],
                       {_permission(introspector, view) for view in views}))
    return result


def _permission(introspector, view):
    related = [r["value"] for r in introspector.related(view) if r.category_name == "permissions"]
    return related[0] if related else None


def _fill(pattern, values):
    """Every URL the pattern gives with each of ``values``."""
    pattern = "/" + STAR.sub("x", pattern).lstrip("/")
    names = PLACEHOLDER.findall(pattern)
    if not names:
        return [pattern]
    urls = []
    for value in values:
        urls.append(PLACEHOLDER.sub(lambda m: str(value(m.group(1))), pattern))
    return urls


@pytest.fixture
def world(make_organisation, make_user, enable_plugin, dbsession):
    a = make_organisation("alpha")
    b = make_organisation("beta")
    for org in (a, b):
        dbsession.add(Department(organisation_id=org.id, name="Care"))
        enable_plugin(org, "hello")
    dbsession.flush()
    a_admin = make_user(a, role=Role.org_admin)
    b_dept = dbsession.query(Department).filter_by(organisation_id=b.id).one()
    # B's objects are complete (photos too), so that a leak shows as a 200.
    b_users = [make_user(b, role=role, department_id=b_dept.id, photo=PNG)
               for role in (Role.org_admin, Role.dept_admin, Role.practitioner)]
    b.logo = PNG
    superuser = make_user(None, role=Role.superuser)
    b_ids = [b.id, b_dept.id, *[u.id for u in b_users]]
    return a, b, a_admin, superuser, b_ids


def _values_for(b_ids):
    """One substitution per object ID of B, for any placeholder name."""
    def make(object_id):
        special = {"plugin": "hello", "token": "x" * 43, "name": "1"}
        return lambda name: special.get(name, object_id)
    return [make(i) for i in b_ids]


class Visitor:
    """Requests on one host, as anonymous or with someone's session cookie.

    Anonymous visitors carry their own valid CSRF token, so that a POST is
    compared with one that passed the CSRF check too. The cookie is sent
    explicitly and the cookie jar emptied after each request, so that a
    response (a logout, say) cannot change who the next request is from.
    """

    def __init__(self, testapp, session_from=None):
        self.testapp = testapp
        source = session_from or testapp
        if session_from is None:
            page = source.get("/login")
        else:  # any logged-in page: the logout form carries the token
            page = source.get("/" if _is_console(source) else "/profile")
        self.csrf = page.forms[0]["csrf_token"].value
        self.cookie = f"consultroom={source.cookies['consultroom']}"
        testapp.reset()

    def __call__(self, method, url):
        headers = {"Cookie": self.cookie}
        try:
            if method == "GET":
                return self.testapp.get(url, headers=headers, expect_errors=True)
            return self.testapp.post(url, {"csrf_token": self.csrf}, headers=headers,
                                     expect_errors=True)
        finally:
            self.testapp.reset()


def _is_console(testapp):
    return testapp.extra_environ["HTTP_HOST"].count(".") == 1


def _succeeded(response):
    if response.status_int >= 400:
        return False
    location = response.headers.get("Location", "")
    return not (300 <= response.status_int < 400 and "/login" in location)


def _urls(app, b_ids):
    for _name, pattern, perms in _routes(app.registry):
        for url in _fill(pattern, _values_for(b_ids)):
            yield pattern, perms, url


def test_organisation_a_gets_nothing_of_organisation_b(app, webtest, login, world):
    a, b, a_admin, superuser, b_ids = world
    app_a = webtest("alpha")
    login(app_a, a_admin)
    a_on_b = Visitor(webtest("beta"), session_from=app_a)
    anonymous_b = Visitor(webtest("beta"))
    a_on_console = Visitor(webtest(), session_from=app_a)
    anonymous_console = Visitor(webtest())
    a_at_home = Visitor(app_a, session_from=app_a)
    successes = []
    checked = 0
    for pattern, _perms, url in _urls(app, b_ids):
        for method in ("GET", "POST"):
            # A's session on B's subdomain or the console gets what an anonymous visitor gets.
            for visitor, anonymous in ((a_on_b, anonymous_b), (a_on_console, anonymous_console)):
                got, baseline = visitor(method, url), anonymous(method, url)
                if got.status_int != baseline.status_int:
                    successes.append((method, visitor.testapp.extra_environ["HTTP_HOST"], url,
                                      got.status_int, baseline.status_int))
            # B's IDs in A's own URLs.
            if PLACEHOLDER.search(pattern) and _succeeded(a_at_home(method, url)):
                successes.append((method, "alpha", url))
            checked += 1
    assert checked > 40
    assert successes == []


def test_superuser_session_means_nothing_on_an_organisation(app, webtest, login, world):
    a, b, a_admin, superuser, b_ids = world
    console = webtest()
    login(console, superuser)
    su_on_b = Visitor(webtest("beta"), session_from=console)
    anonymous_b = Visitor(webtest("beta"))
    differences = []
    for _pattern, _perms, url in _urls(app, b_ids):
        for method in ("GET", "POST"):
            got, baseline = su_on_b(method, url), anonymous_b(method, url)
            if got.status_int != baseline.status_int:
                differences.append((method, url, got.status_int, baseline.status_int))
    assert differences == []


def test_protected_routes_need_a_session(app, webtest, world):
    a, b, a_admin, superuser, b_ids = world
    visitors = [Visitor(webtest("beta")), Visitor(webtest())]
    successes = []
    protected = set()
    for pattern, perms, url in _urls(app, b_ids):
        if perms <= {None}:
            continue  # a public page: login, set-password link, static files
        protected.add(pattern)
        for visitor in visitors:
            for method in ("GET", "POST"):
                if _succeeded(visitor(method, url)):
                    successes.append((method, visitor.testapp.extra_environ["HTTP_HOST"], url))
    assert len(protected) > 15
    assert successes == []
