"""Compiled templates are kept on disk (web/template_cache.py): a second
process with the same template options renders its pages without compiling
them again; other options, or the cache turned off, compile their own."""

import pytest
from jinja2 import Environment
from webtest import TestApp

from consultroom.app import make_config
from consultroom.plugins.registry import PluginRegistry
from consultroom.testing import BASE_DOMAIN
from consultroom.web import template_cache

# Each test starts applications of its own; the database does not matter.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def compiled(monkeypatch):
    """The names of the templates Jinja2 compiles from now on."""
    names = []
    compile = Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kw):
        names.append(name)
        return compile(self, source, name, filename, *args, **kw)

    monkeypatch.setattr(Environment, "compile", counting)
    return names


@pytest.fixture
def start(app_settings, _app_dbmaker, db_connection, tmp_path, make_organisation):
    """Starts an application as a new process would, with the cache in
    ``tmp_path/cache`` and ``settings`` added; returns a browser of its
    organisation's pages."""
    make_organisation("clinic")

    def start(**settings):
        settings = {
            **app_settings,
            template_cache.DIRECTORY: str(tmp_path / "cache"),
            **settings,
        }
        app = make_config(settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker)
        return TestApp(
            app.make_wsgi_app(),
            extra_environ={"HTTP_HOST": f"clinic.{BASE_DOMAIN}", "REMOTE_ADDR": "192.0.2.10"},
        )

    (tmp_path / "cache").mkdir()
    return start


def test_a_second_process_renders_without_compiling(start, compiled, tmp_path):
    start().get("/login")
    assert "login.html" in compiled
    assert list((tmp_path / "cache").glob("consultroom-*.cache"))

    compiled.clear()
    second = start().get("/login")
    assert compiled == []
    assert 'name="password"' in second.text


def test_other_template_options_compile_their_own(start, compiled):
    start().get("/login")
    compiled.clear()
    other = start(**{"jinja2.trim_blocks": "false"}).get("/login")
    assert "login.html" in compiled
    assert 'name="password"' in other.text


def test_the_cache_can_be_turned_off(start, compiled, tmp_path):
    start(**{template_cache.ON: "false"}).get("/login")
    compiled.clear()
    start(**{template_cache.ON: "false"}).get("/login")
    assert "login.html" in compiled
    assert not list((tmp_path / "cache").iterdir())


def test_a_cache_that_cannot_be_written_leaves_pages_working(start, tmp_path, caplog):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    page = start(**{template_cache.DIRECTORY: str(not_a_directory)}).get("/login")
    assert 'name="password"' in page.text
    assert "compiled templates are not kept" in caplog.text
