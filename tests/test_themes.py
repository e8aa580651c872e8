"""The theme chain: a configured theme (in ``consultroom.themes_dir``, or a
distribution's asset spec) overrides the templates and static files it has;
everything else comes from the bundled default theme."""

import pytest
from webtest import TestApp

from consultroom.app import make_config
from consultroom.plugins.registry import PluginRegistry
from consultroom.testing import BASE_DOMAIN
from consultroom.web import DEFAULT_THEME, theme_chain


@pytest.fixture
def themes_dir(tmp_path):
    custom = tmp_path / "custom"
    (custom / "templates").mkdir(parents=True)
    (custom / "templates" / "login.html").write_text("the custom login page")
    (custom / "static" / "css").mkdir(parents=True)
    (custom / "static" / "css" / "main.css").write_text("body { color: teal }")
    return tmp_path


@pytest.fixture
def themed(app_settings, _app_dbmaker, db_connection, themes_dir):
    settings = {
        **app_settings,
        "consultroom.themes_dir": str(themes_dir),
        "consultroom.theme": "custom",
    }
    app = make_config(settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker).make_wsgi_app()
    return lambda subdomain: TestApp(
        app, extra_environ={"HTTP_HOST": f"{subdomain}.{BASE_DOMAIN}", "REMOTE_ADDR": "192.0.2.10"}
    )


def test_the_chain_ends_with_the_default_theme(tmp_path):
    assert theme_chain({}) == [DEFAULT_THEME]
    assert theme_chain({"consultroom.theme": "mytheme:theme"}) == ["mytheme:theme", DEFAULT_THEME]
    assert theme_chain({"consultroom.themes_dir": str(tmp_path), "consultroom.theme": "x"}) == [
        str(tmp_path / "x"),
        DEFAULT_THEME,
    ]


def test_the_configured_theme_overrides_what_it_has(themed, make_organisation):
    make_organisation("clinic")
    browser = themed("clinic")
    assert browser.get("/login").text == "the custom login page"
    assert browser.get("/static/css/main.css").text == "body { color: teal }"


def test_the_rest_comes_from_the_default_theme(themed, make_organisation):
    make_organisation("clinic")
    browser = themed("clinic")
    assert "idle" in browser.get("/static/js/idle.js").text
    assert browser.get("/static/img/favicon.svg").status_int == 200
    assert "<html" in browser.get("/no-such-page", status=404).text


def test_the_default_theme_is_untouched_by_another_apps_theme(themed, webtest, make_organisation):
    make_organisation("clinic")
    themed("clinic").get("/static/css/main.css")
    assert "teal" not in webtest("clinic").get("/static/css/main.css").text
    assert 'name="password"' in webtest("clinic").get("/login").text
