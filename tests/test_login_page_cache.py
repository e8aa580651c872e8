"""The login page kept rendered per process (consultroom.accounts.login_page):
each visitor still gets their own CSRF token and CSP nonce, each
organisation its own page, a change shows at once, and what a bare page
does not show (flash messages, form errors, an address to go on to) is
rendered in full."""

import re

import pytest
from pyramid.httpexceptions import HTTPSeeOther

from consultroom.accounts import login_page
from consultroom.db.cache import tables_changed
from consultroom.tenancy.hosts import CACHE as ORGANISATIONS
from consultroom.tenancy.models import Organisation
from consultroom.testing import BASE_DOMAIN, PASSWORD
from consultroom.web import flash


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme", name="Acme Clinic")


def kept(app):
    return len(app.registry[login_page.CACHE])


def token_and_nonce(page):
    token = page.forms[0]["csrf_token"].value
    nonce = page.html.find("style")["nonce"]
    assert f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"]
    return token, nonce


def without_token_and_nonce(page):
    token, nonce = token_and_nonce(page)
    return page.text.replace(token, "TOKEN").replace(nonce, "NONCE")


def test_the_page_is_kept_and_equals_a_full_render(webtest, org, app):
    page = webtest("acme").get("/login")
    assert kept(app) == 1
    # A parameter makes the view render in full (next="" as on the bare page).
    full = webtest("acme").get("/login?next=")
    assert without_token_and_nonce(page) == without_token_and_nonce(full)
    assert "Acme Clinic" in page.text and 'name="email"' in page.text


def test_each_visitor_gets_their_own_token_and_nonce(webtest, org, make_user, app):
    user = make_user(org)
    visitors = [webtest("acme") for _ in range(2)]
    pages = [visitor.get("/login") for visitor in visitors]
    assert kept(app) == 1
    (token_a, nonce_a), (token_b, nonce_b) = map(token_and_nonce, pages)
    assert token_a != token_b and nonce_a != nonce_b
    # Each token works with its own visitor's cookie (a page submits
    # through the visitor that got it), and not with another's.
    for page in pages:
        form = page.forms[0]
        form["email"], form["password"] = user.email, PASSWORD
        form.submit(status=303)
    stranger = webtest("acme")
    stranger.get("/login")
    response = stranger.post(
        "/login",
        {"csrf_token": token_a, "email": user.email, "password": PASSWORD},
        status=400,
    )
    assert "Form expired" in response.text


def test_each_organisation_gets_its_own_page(webtest, org, make_organisation, app):
    make_organisation("beta", name="Beta Care", primary_colour="#123456")
    for _ in range(2):
        acme, beta = webtest("acme").get("/login"), webtest("beta").get("/login")
        assert "Acme Clinic" in acme.text and "Beta Care" not in acme.text
        assert "Beta Care" in beta.text and "Acme Clinic" not in beta.text
        assert "#123456" in beta.text and "#123456" not in acme.text
    assert kept(app) == 2


def test_each_language_gets_its_own_page(webtest, org, app):
    dutch = webtest("acme")
    dutch.get("/login?_LOCALE_=nl")
    for _ in range(2):
        assert "Wachtwoord vergeten?" in dutch.get("/login").text
        assert "Forgot your password?" in webtest("acme").get("/login").text
    assert kept(app) == 2


def test_a_changed_organisation_shows_at_once(webtest, org, dbsession):
    app = webtest("acme")
    app.get("/login")
    org.name = "Acme Health"
    org.accent_colour = "#abcdef"
    dbsession.flush()
    page = app.get("/login")
    assert "Acme Health" in page.text and "Acme Clinic" not in page.text
    assert "#abcdef" in page.text


def test_a_kept_page_of_older_values_is_not_used(webtest, org, app):
    """Even when the kept pages were not dropped (a change that raced a
    render): the page is used only with the values it was rendered from."""
    webtest("acme").get("/login")
    fixed, in_place = app.registry[ORGANISATIONS].get("acme")
    app.registry[ORGANISATIONS].put("acme", ({**fixed, "name": "Acme Renamed"}, in_place))
    page = webtest("acme").get("/login")
    assert "Acme Renamed" in page.text and "Acme Clinic" not in page.text


def test_kept_pages_are_dropped_with_the_organisations(webtest, org, app):
    webtest("acme").get("/login")
    tables_changed({Organisation.__tablename__}, notify=False)
    assert kept(app) == 0


def test_an_enabled_plugins_login_slot_shows_at_once(webtest, org, enable_plugin, app):
    visitor = webtest("acme")
    assert "keycard-login" not in visitor.get("/login").text
    enable_plugin(org, "keycard")
    for _ in range(2):
        page = visitor.get("/login")
        slot_form = next(f for f in page.forms.values() if f.action == "/keycard/login")
        # The slot is called per request: its token is this request's.
        assert slot_form["csrf_token"].value == page.forms[0]["csrf_token"].value
    enable_plugin(org, "keycard", enabled=False)
    assert "keycard-login" not in visitor.get("/login").text


def test_a_post_with_errors_shows_them(webtest, org, app):
    visitor = webtest("acme")
    form = visitor.get("/login").forms[0]
    form["email"], form["password"] = "nobody@example.org", "wrong"
    page = form.submit(status=200)
    assert "The e-mail address or the password is wrong." in page.text
    assert page.forms[0]["email"].value == "nobody@example.org"
    assert "is wrong" not in visitor.get("/login").text


def test_next_is_carried_on_the_page(webtest, org):
    visitor = webtest("acme")
    visitor.get("/login")
    page = visitor.get("/login?next=/clients")
    assert page.forms[0]["next"].value == "/clients"


@pytest.fixture
def flashing_app(app_settings, _app_dbmaker, db_engine):
    """The application with a page that flashes a message and sends the
    visitor to the login page."""
    from consultroom.app import make_config
    from consultroom.plugins.registry import PluginRegistry

    def flash_and_go(request):
        flash(request, "A message for this visitor")
        return HTTPSeeOther("/login")

    config = make_config(app_settings, plugins=PluginRegistry.discover(), dbmaker=_app_dbmaker)
    config.add_route("flash_and_go", "/flash-and-go")
    config.add_view(flash_and_go, route_name="flash_and_go")
    return config.make_wsgi_app()


def test_a_flash_message_is_shown_once(flashing_app, db_connection, org):
    from webtest import TestApp

    visitor = TestApp(flashing_app, extra_environ={"HTTP_HOST": f"acme.{BASE_DOMAIN}"})
    visitor.get("/login")
    page = visitor.get("/flash-and-go", status=303).follow()
    assert "A message for this visitor" in page.text
    assert "A message for this visitor" not in visitor.get("/login").text
    assert re.search(r'name="csrf_token" value="[0-9a-f]{40,}"', page.text)


def test_the_console_page_is_kept_too(webtest, app):
    pages = [webtest().get("/login") for _ in range(2)]
    assert "Consultroom console" in pages[1].text
    assert kept(app) == 1
    tokens = [p.forms[0]["csrf_token"].value for p in pages]
    assert tokens[0] != tokens[1]
