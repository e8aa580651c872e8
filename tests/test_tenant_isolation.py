"""Tenant isolation, walked over the whole route table.

Every route (core and plugin) is requested with organisation A's staff
session, and again with A's API key, against organisation B: on B's
subdomain, and on A's own subdomain with B's object IDs in the URL. Neither
may succeed. Every protected route is also requested without a session. New
routes are covered automatically.
"""

import pytest

from route_walk import PLACEHOLDER, KeyVisitor, Visitor, committed_on_postgresql, fill, routes

db_connection = pytest.fixture(committed_on_postgresql, name="db_connection")


def _succeeded(response):
    if response.status_int >= 400:
        return False
    location = response.headers.get("Location", "")
    return not (300 <= response.status_int < 400 and "/login" in location)


# Routes that end the session they are sent with: walked last, or every
# later POST of that visitor (and of its anonymous baseline) would fail its
# CSRF check and prove nothing.
SESSION_ENDING = {"logout", "logout_everywhere", "support_end"}


def _differs(got, baseline):
    """A visitor got more than the anonymous baseline: a different answer that
    is not a refusal. (A session cookie from another site finds no session
    here, so its POSTs fail the CSRF check where the baseline's pass.)"""
    return got.status_int != baseline.status_int and _succeeded(got)


def _urls(app, b_values):
    walk = sorted(routes(app.registry), key=lambda route: route[0] in SESSION_ENDING)
    for _name, pattern, perms, methods in walk:
        for url in fill(pattern, b_values):
            for method in methods:
                yield pattern, perms, url, method


@pytest.fixture
def a_sends(webtest, login, world, dbsession):
    """Visitors on a host ("alpha", "beta" or "" for the console) carrying
    organisation A's admin session or A's API key."""
    a, b, a_admin, superuser, b_values = world
    app_a = webtest("alpha")
    login(app_a, a_admin)
    key = a.rotate_api_key()
    dbsession.commit()  # the session and key (route_walk.committed_on_postgresql)
    assert KeyVisitor(webtest("alpha"), key)("GET", "/api/v1/clients").status_int == 200

    def visitor(credential, host):
        if credential == "session":
            return Visitor(webtest(host), session_from=app_a)
        return KeyVisitor(webtest(host), key)

    return visitor


# One test per credential and place, so that a failure names them.
@pytest.mark.parametrize(
    "credential, host", [("session", "beta"), ("session", ""), ("API key", "beta")]
)
def test_organisation_a_on_b_gets_what_an_anonymous_visitor_gets(
    app, webtest, world, a_sends, credential, host
):
    *_, b_values = world
    visitor, anonymous = a_sends(credential, host), Visitor(webtest(host))
    differences = []
    for _pattern, _perms, url, method in _urls(app, b_values):
        got, baseline = visitor(method, url), anonymous(method, url)
        if _differs(got, baseline):
            differences.append((method, url, got.status_int, baseline.status_int))
    assert differences == []


@pytest.mark.parametrize("credential", ["session", "API key"])
def test_b_ids_in_organisation_a_urls_get_nothing(app, world, a_sends, credential):
    *_, b_values = world
    visitor = a_sends(credential, "alpha")
    successes = []
    checked = 0
    for pattern, _perms, url, method in _urls(app, b_values):
        if PLACEHOLDER.search(pattern):
            checked += 1
            if _succeeded(visitor(method, url)):
                successes.append((method, url))
    assert checked > 40
    assert successes == []


def test_superuser_session_means_nothing_on_an_organisation(app, webtest, login, world, dbsession):
    a, b, a_admin, superuser, b_values = world
    console = webtest()
    login(console, superuser)
    dbsession.commit()
    su_on_b = Visitor(webtest("beta"), session_from=console)
    anonymous_b = Visitor(webtest("beta"))
    differences = []
    for _pattern, _perms, url, method in _urls(app, b_values):
        got, baseline = su_on_b(method, url), anonymous_b(method, url)
        if _differs(got, baseline):
            differences.append((method, url, got.status_int, baseline.status_int))
    assert differences == []


def test_protected_routes_need_a_session(app, webtest, world):
    a, b, a_admin, superuser, b_values = world
    visitors = [Visitor(webtest("beta")), Visitor(webtest())]
    successes = []
    protected = set()
    for pattern, perms, url, method in _urls(app, b_values):
        if perms <= {None}:
            continue  # a public page: login, set-password link, static files
        protected.add(pattern)
        for visitor in visitors:
            if _succeeded(visitor(method, url)):
                successes.append((method, visitor.testapp.extra_environ["HTTP_HOST"], url))
    assert len(protected) > 15
    assert successes == []
