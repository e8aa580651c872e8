"""An organisation's theme and custom CSS (issue 19): chosen on "My
organisation" from the installed themes only; pages, the static files they
name and the stylesheet follow the organisation's theme chain; unsafe CSS is
refused with the reason and nothing is saved; other organisations keep
theirs."""

import pytest
from pyramid_jinja2 import SmartAssetSpecLoader
from sqlalchemy import select
from webtest import TestApp

from consultroom.accounts.models import Role
from consultroom.app import make_config
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.models import Organisation
from consultroom.testing import BASE_DOMAIN
from consultroom.web.themes import css_version


@pytest.fixture
def themes_dir(tmp_path):
    """A theme "plain" (parent calm) overriding the login page only."""
    plain = tmp_path / "plain"
    (plain / "templates").mkdir(parents=True)
    (plain / "theme.toml").write_text('title = "Plain"\nparent = "calm"\n')
    (plain / "templates" / "login.html").write_text(
        '{% extends "layout.html" %}{% block content %}<p id="plain">the plain login</p>'
        "{% endblock %}"
    )
    (plain / "static" / "js").mkdir(parents=True)
    (plain / "static" / "js" / "idle.js").write_text("// plain idle")
    return tmp_path


@pytest.fixture
def themed_app(app_settings, _app_dbmaker, db_connection, themes_dir):
    settings = {**app_settings, "consultroom.themes_dir": str(themes_dir)}
    app = make_config(settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker).make_wsgi_app()
    return lambda subdomain: TestApp(
        app, extra_environ={"HTTP_HOST": f"{subdomain}.{BASE_DOMAIN}", "REMOTE_ADDR": "192.0.2.10"}
    )


@pytest.fixture
def orgs(make_organisation):
    return make_organisation("acme", name="Acme Care"), make_organisation("other", name="Other")


@pytest.fixture
def admin(themed_app, login, make_user, orgs):
    app = themed_app("acme")
    login(app, make_user(orgs[0], role=Role.org_admin))
    return app


def details_form(page):
    (form,) = [f for f in page.forms.values() if f.action == "/organisation"]
    return form


def stored(dbsession, subdomain):
    dbsession.expire_all()
    return dbsession.scalar(select(Organisation).where(Organisation.subdomain == subdomain))


def save(app, **fields):
    form = details_form(app.get("/organisation"))
    for name, value in fields.items():
        form[name].force_value(value) if name == "theme" else form.__setitem__(name, value)
    return form.submit()


def test_the_installed_themes_are_offered(admin):
    options = [
        value for value, _sel, _text in details_form(admin.get("/organisation"))["theme"].options
    ]
    assert options == ["", "calm", "default", "plain"]


def test_a_theme_overriding_one_template_changes_that_page_only(admin, themed_app, dbsession, orgs):
    assert save(admin, theme="plain").status_int == 303
    assert stored(dbsession, "acme").theme == "plain"
    visitor = themed_app("acme")
    page = visitor.get("/login")
    assert page.html.select_one("#plain").text == "the plain login"
    # The rest of the page comes from the chain: layout from default, the
    # stylesheet head from calm, static files under the theme's address.
    assert page.html.select_one('link[href="/theme/plain/css/calm.css"]')
    staff_page = admin.get("/organisation").html
    assert staff_page.select_one('script[src="/theme/plain/js/idle.js"]')
    assert staff_page.select_one('script[src="/static/js/shell.js"]')
    # A file the theme serves as the installation's does keeps its address.
    assert page.html.select_one('link[href="/static/css/main.css"]')
    assert visitor.get("/theme/plain/js/idle.js").text == "// plain idle"
    assert "large type" in visitor.get("/theme/plain/css/calm.css").text
    assert "staff shell" in visitor.get("/theme/plain/js/shell.js").text
    # Another page of the same organisation is the default one.
    assert "the plain login" not in visitor.get("/book", status="*").text
    # The other organisation keeps the installation's theme.
    other = themed_app("other").get("/login")
    assert other.html.select_one("#plain") is None
    assert other.html.select_one('input[name="password"]')
    assert other.html.select_one('link[href="/static/css/main.css"]')
    assert themed_app("other").get("/static/js/idle.js").text != "// plain idle"
    assert stored(dbsession, "other").theme == ""


@pytest.mark.parametrize("name", ["nope", "../default", "default/../../etc", "x" * 300])
def test_an_unknown_theme_is_refused_and_nothing_is_saved(admin, dbsession, name):
    response = save(admin, theme=name, name="Renamed")
    assert response.status_int == 200
    assert "choose one from the list" in response.text
    org = stored(dbsession, "acme")
    assert (org.theme, org.name) == ("", "Acme Care")


def test_unknown_theme_addresses_are_404(themed_app, orgs):
    themed_app("acme").get("/theme/nope/css/main.css", status=404)
    themed_app("acme").get("/theme/calm/../../../etc/passwd", status=404)
    themed_app("acme").get("/theme/calm/css/nothing.css", status=404)


def test_a_theme_no_longer_installed_falls_back_to_the_installations(themed_app, dbsession, orgs):
    orgs[0].theme = "uninstalled"
    dbsession.flush()
    page = themed_app("acme").get("/login")
    assert page.html.select_one('link[href="/static/css/main.css"]')


GOOD_CSS = ".room-stage { border: 4px solid #123456 }\nh1 > span { color: red }"


def test_custom_css_is_cleaned_stored_and_served_from_our_origin(
    admin, themed_app, dbsession, orgs
):
    orgs[1].custom_css, orgs[1].theme = "p {color: blue}", "calm"
    dbsession.flush()
    assert save(admin, custom_css=GOOD_CSS + "\n/* a note */").status_int == 303
    css = stored(dbsession, "acme").custom_css
    assert css == ".room-stage {border: 4px solid #123456}\nh1 > span {color: red}"
    page = themed_app("acme").get("/login")
    link = page.html.select_one('link[href^="/custom.css"]')["href"]
    assert link == f"/custom.css?v={css_version(css)}"
    served = themed_app("acme").get(link)
    assert served.content_type == "text/css"
    assert served.text == css
    assert "immutable" in served.headers["Cache-Control"]
    again = themed_app("acme").get(link, headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_int == 304
    assert "no-cache" in themed_app("acme").get("/custom.css?v=old").headers["Cache-Control"]
    # The other organisation keeps its own, in its pages and at its address.
    other = themed_app("other")
    assert stored(dbsession, "other").custom_css == "p {color: blue}"
    assert stored(dbsession, "other").theme == "calm"
    href = other.get("/login").html.select_one('link[href^="/custom.css"]')["href"]
    assert other.get(href).text == "p {color: blue}"


@pytest.mark.parametrize(
    ("css", "message"),
    [
        ("a { background: url(http://evil.example/x.png) }", "url() may only point to a path"),
        ("@import url(https://evil.example/x.css);", "@import is not allowed"),
        ("a { width: expression(alert(1)) }", "expression() is not allowed"),
        ("a { color: red }\nb { -moz-binding: url(/x.xml) }", "Line 2: the property -moz-binding"),
        ("a { color: red }}", "cannot be read"),
        ("a { color: red }" * 20000, "at most"),
    ],
)
def test_unsafe_css_is_refused_with_the_reason_and_nothing_saved(admin, dbsession, css, message):
    before = save(admin, custom_css=GOOD_CSS)
    assert before.status_int == 303
    response = save(admin, custom_css=css, name="Renamed", theme="calm")
    assert response.status_int == 200
    assert message in response.html.select_one("#custom_css").find_parent().text
    org = stored(dbsession, "acme")
    assert (org.name, org.theme) == ("Acme Care", "")
    assert org.custom_css.startswith(".room-stage")


def test_emptying_the_custom_css_removes_it(admin, themed_app, dbsession):
    save(admin, custom_css=GOOD_CSS)
    assert save(admin, custom_css="").status_int == 303
    assert stored(dbsession, "acme").custom_css == ""
    assert themed_app("acme").get("/login").html.select_one('link[href^="/custom.css"]') is None


def test_a_template_missing_beside_its_caller_is_looked_for_there_once(
    webtest, make_organisation, make_user, login, monkeypatch
):
    """``render()`` makes a renderer per call; the package-relative name it
    tries first (consultroom.waitingroom:...) is asked of the loader at most
    once, not on every page, and the page still finds the template."""
    asked = []
    original = SmartAssetSpecLoader.get_source

    def spy(loader, environment, template):
        asked.append(template)
        return original(loader, environment, template)

    monkeypatch.setattr(SmartAssetSpecLoader, "get_source", spy)
    org = make_organisation()
    browser = webtest(org.subdomain)
    login(browser, make_user(org, Role.org_admin))
    for _ in range(3):
        assert "data-waiting-count" in browser.get("/departments").text
    beside = "consultroom.waitingroom:waitingroom/_shell_count.html"
    assert asked.count(beside) <= 1
