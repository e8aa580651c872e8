"""Every request of the application is of one class carrying the
add_request_method properties (consultroom.app.one_request_class), and
what a request reifies stays its own."""

import pytest
from pyramid.interfaces import IRequestExtensions
from pyramid.request import Request, apply_request_extensions
from pyramid.response import Response

from consultroom.testing import BASE_DOMAIN


@pytest.fixture
def seen_app(app_settings, _app_dbmaker, db_engine):
    """The application with a page that notes its request's class and
    organisation."""
    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    seen = []

    def note(request):
        seen.append((type(request), request.organisation.name, request.csp_nonce))
        return Response("noted")

    config = make_config(app_settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker)
    config.add_route("note", "/note")
    config.add_view(note, route_name="note")
    return config.make_wsgi_app(), seen


def test_requests_share_one_class_and_keep_their_own_values(
    seen_app, db_connection, make_organisation
):
    from webtest import TestApp

    app, seen = seen_app
    make_organisation("acme", name="Acme Clinic")
    make_organisation("beta", name="Beta Care")
    for subdomain in ("acme", "beta", "acme"):
        TestApp(app, extra_environ={"HTTP_HOST": f"{subdomain}.{BASE_DOMAIN}"}).get("/note")
    classes, names, nonces = zip(*seen, strict=True)
    assert len(set(classes)) == 1
    assert classes[0] is app.request_factory and issubclass(classes[0], Request)
    assert names == ("Acme Clinic", "Beta Care", "Acme Clinic")
    assert len(set(nonces)) == 3


def test_a_request_made_elsewhere_still_gets_the_properties(app):
    extensions = app.registry.queryUtility(IRequestExtensions)
    assert "site_and_organisation" in extensions.descriptors
    request = Request.blank("/", base_url=f"http://{BASE_DOMAIN}")
    request.registry = app.registry
    apply_request_extensions(request)
    assert request.site == "console"
    assert type(request) is not Request
