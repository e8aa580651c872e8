"""The indexed routes mapper (consultroom.web.routing) answers exactly as
Pyramid's own, which tries every route in order: compared on made-up routes
that test the order of precedence, and on every route of the application."""

import re

import pytest
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request, apply_request_extensions
from pyramid.urldispatch import RoutesMapper

from consultroom.web.routing import IndexedRoutesMapper
from consultroom.web.sites import CONSOLE, ORGANISATION, UNKNOWN


def _both(routes):
    mappers = RoutesMapper(), IndexedRoutesMapper()
    for name, pattern, predicates in routes:
        for mapper in mappers:
            mapper.connect(name, pattern, predicates=predicates)
    return mappers


def _name(mapper, path, environ=None):
    request = Request.blank("/", environ=environ)
    request.path_info = path
    route = mapper(request)["route"]
    return route and route.name


def _refuse_post(info, request):
    return request.method != "POST"


ROUTES = [
    ("home", "/", ()),
    ("login_get", "/login", (_refuse_post,)),
    ("login", "/login", ()),
    ("early_variable", "/{anything}/edit", ()),
    ("clients", "/clients", ()),
    ("client_edit", "/clients/edit", ()),  # after early_variable: never reached
    ("client", "/clients/{id:[0-9]+}", ()),
    ("old_style", ":kind/old", ()),
    ("no_slash", "plain/{x}", ()),
    ("files", "/files/*rest", ()),
    ("glued", "/report{ext}", ()),
    ("late_variable", "/{a}/{b}", ()),
    ("api", "/api/v1/items", ()),
    ("static_last", "/clients/{id}/files", ()),
    ("dot", "/favicon.ico", ()),
]

PATHS = [
    "/",
    "//",
    "",
    "/login",
    "/login/",
    "/login\n",
    "//login",
    "/clients",
    "/clients/edit",
    "/clients/12",
    "/clients/12/files",
    "/clients/x",
    "/api/v1/items",
    "/api/v1/items/",
    "/API/v1/items",
    "/old/old",
    "/x/old",
    "/plain/1",
    "plain/1",
    "/files",
    "/files/",
    "/files/a/b",
    "/report.pdf",
    "/report",
    "/favicon.ico",
    "/faviconXico",
    "/a/b",
    "/a/b/c",
    "/nowhere",
    "/é/ü",
]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_same_route_as_pyramids_mapper(method):
    pyramid_mapper, indexed = _both(ROUTES)
    environ = {"REQUEST_METHOD": method}
    found = {path: _name(indexed, path, environ) for path in PATHS}
    assert found == {path: _name(pyramid_mapper, path, environ) for path in PATHS}
    # The order of precedence was tested: a variable route added earlier
    # wins over a plain one, a refused route falls through to the next.
    assert found["/clients/edit"] == "early_variable"
    assert found["/login"] == ("login_get" if method == "GET" else "login")
    assert found["/a/b"] == "late_variable"


def test_a_route_added_again_replaces_the_first():
    pyramid_mapper, indexed = _both(ROUTES)
    for mapper in (pyramid_mapper, indexed):
        _name(mapper, "/login")  # the index is built
        mapper.connect("login", "/sign-in")
    for path in ("/login", "/sign-in"):
        assert _name(indexed, path) == _name(pyramid_mapper, path)
    assert _name(indexed, "/sign-in") == "login"


def _examples(pattern):
    """Paths a route's pattern matches, and near misses."""
    filled = re.sub(r"\{[^}:]+(:[^}]*)?\}", "1", pattern).replace("*", "a/")
    return {filled, filled + "/", filled.rstrip("/") + "x", "/x" + filled}


def test_every_application_route_found_as_by_pyramid(app):
    ours = app.registry.getUtility(IRoutesMapper)
    assert isinstance(ours, IndexedRoutesMapper)
    pyramid_mapper = RoutesMapper()
    for route in ours.get_routes():
        pyramid_mapper.connect(route.name, route.pattern, predicates=route.predicates)
    paths = {p for route in ours.get_routes() for p in _examples(route.pattern)}
    assert len(paths) > 300
    for site in (ORGANISATION, CONSOLE, UNKNOWN):
        for path in sorted(paths):
            request = Request.blank("/")
            request.registry = app.registry
            apply_request_extensions(request)
            # What the site predicate reads, as the host would give it.
            request.site_and_organisation = (site, None)
            request.path_info = path
            expected = pyramid_mapper(request)["route"]
            assert ours(request)["route"] is (expected and ours.get_route(expected.name)), path
