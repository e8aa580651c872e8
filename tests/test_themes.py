"""The theme chain: a configured theme (in ``consultroom.themes_dir``, or a
distribution's asset spec) overrides the templates and static files it has;
everything else comes from the bundled default theme."""

import re

import pytest
from webtest import TestApp

from consultroom.app import make_config
from consultroom.plugins.registry import PluginRegistry
from consultroom.testing import BASE_DOMAIN
from consultroom.web.themes import ThemeError, Themes


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


def chain(settings):
    themes = Themes.from_settings(settings)
    return [t.name for t in themes.chain(themes.installation)]


def test_the_chain_ends_with_the_default_theme(themes_dir):
    assert chain({"consultroom.theme": "default"}) == ["default"]
    assert chain({"consultroom.theme": "calm"}) == ["calm", "default"]
    settings = {"consultroom.themes_dir": str(themes_dir), "consultroom.theme": "custom"}
    assert chain(settings) == ["custom", "default"]


def test_a_manifest_names_the_parent(themes_dir):
    (themes_dir / "warm").mkdir()
    (themes_dir / "warm" / "theme.toml").write_text('title = "Warm"\nparent = "custom"\n')
    settings = {"consultroom.themes_dir": str(themes_dir), "consultroom.theme": "warm"}
    assert chain(settings) == ["warm", "custom", "default"]
    assert ("warm", "Warm") in Themes.from_settings(settings).choices()


def test_a_distributions_theme_by_asset_spec():
    # The bundled calm theme named the way a distribution's theme is.
    assert chain({"consultroom.theme": "consultroom:themes/calm"}) == ["calm", "default"]


@pytest.mark.parametrize(
    ("manifests", "problem"),
    [
        ({"a": 'parent = "b"', "b": 'parent = "a"'}, "circle: a -> b -> a"),
        ({"a": 'parent = "a"'}, "circle: a -> a"),
        ({"a": 'parent = "nowhere"'}, "no installed parent theme 'nowhere'"),
        ({"a": "parent = ["}, "not a readable theme manifest"),
        ({"a": "parent = 3"}, "parent must be a string"),
        ({"a": 'name = "b"'}, "the manifest's name 'b' is not 'a'"),
        ({"Bad Name": 'title = "x"'}, "a theme's name is lowercase"),
        ({"default": 'title = "mine"'}, "the bundled theme's"),
    ],
)
def test_bad_themes_stop_the_start_up(tmp_path, manifests, problem):
    for name, manifest in manifests.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "theme.toml").write_text(manifest)
    with pytest.raises(ThemeError, match=re.escape(problem)):
        Themes.from_settings({"consultroom.themes_dir": str(tmp_path)})


def test_an_unknown_installation_theme_stops_the_start_up(themes_dir):
    with pytest.raises(ThemeError, match="no installed theme is called 'nope'"):
        Themes.from_settings(
            {"consultroom.themes_dir": str(themes_dir), "consultroom.theme": "nope"}
        )


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


def test_the_application_does_not_start_with_a_circle(app_settings, _app_dbmaker, tmp_path):
    for name, parent in (("a", "b"), ("b", "a")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "theme.toml").write_text(f'parent = "{parent}"')
    settings = {**app_settings, "consultroom.themes_dir": str(tmp_path)}
    with pytest.raises(ThemeError, match="circle"):
        make_config(settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker)


@pytest.fixture
def theme_distribution(tmp_path, monkeypatch):
    """An installed distribution (a package and its .dist-info on sys.path)
    declaring the theme "calmer" in the entry point group consultroom.themes."""
    package = tmp_path / "consultroom_calmer"
    (package / "theme" / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "theme" / "theme.toml").write_text('title = "Calmer"\nparent = "calm"\n')
    (package / "theme" / "templates" / "login.html").write_text("the calmer login")
    info = tmp_path / "consultroom_calmer-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: consultroom-calmer\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[consultroom.themes]\ncalmer = consultroom_calmer:theme\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_a_distributions_theme_is_installed_by_entry_point(theme_distribution):
    themes = Themes.from_settings({})
    assert [t.name for t in themes.chain("calmer")] == ["calmer", "calm", "default"]
    assert ("calmer", "Calmer") in themes.choices()
    assert themes.installation == "default"
