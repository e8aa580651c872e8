"""The hello test plugin, installed as a real distribution, is gated per
organisation: pages, static files, menu entries, slots and hooks."""

from importlib.metadata import distribution

import consultroom_hello
import pytest

from consultroom.accounts.models import Role


@pytest.fixture
def two_orgs(make_organisation, make_user, enable_plugin):
    on = make_organisation("on", name="Plugin On")
    off = make_organisation("off", name="Plugin Off")
    enable_plugin(on, "hello")
    users = {o.subdomain: make_user(o, role=Role.practitioner) for o in (on, off)}
    consultroom_hello.CALLS.clear()
    return on, off, users


def test_hello_is_a_real_installed_distribution(plugin_registry):
    dist = distribution("consultroom-hello")
    assert dist.version == "1.2.0"
    assert [ep.name for ep in dist.entry_points if ep.group == "consultroom.plugins"] == ["hello"]
    plugin = plugin_registry.get("hello")
    assert plugin.usable and plugin.version == "1.2.0"


def test_pages_work_only_where_enabled(webtest, login, two_orgs):
    on, off, users = two_orgs
    app_on, app_off = webtest("on"), webtest("off")
    login(app_on, users["on"])
    login(app_off, users["off"])
    assert "Hello, " in app_on.get("/hello").text
    app_off.get("/hello", status=404)
    assert app_on.get("/hello-static/hello.css").status_int == 200
    app_off.get("/hello-static/hello.css", status=404)


def test_menu_and_slot_only_where_enabled(webtest, login, two_orgs):
    on, off, users = two_orgs
    app_on, app_off = webtest("on"), webtest("off")
    login(app_on, users["on"])
    login(app_off, users["off"])
    consultroom_hello.CALLS.clear()
    home_on = app_on.get("/")
    home_off = app_off.get("/")
    assert 'href="/hello"' in home_on.text and "hello-slot" in home_on.text
    assert 'href="/hello"' not in home_off.text and "hello-slot" not in home_off.text
    assert {sub for _hook, sub in consultroom_hello.CALLS} == {"on"}


def test_disabling_takes_effect_on_the_next_request(webtest, login, two_orgs, enable_plugin):
    on, off, users = two_orgs
    app_on = webtest("on")
    login(app_on, users["on"])
    app_on.get("/hello", status=200)
    enable_plugin(on, "hello", enabled=False)
    app_on.get("/hello", status=404)
    assert "hello-slot" not in app_on.get("/").text
    assert ("disabled", "on") in consultroom_hello.CALLS


def test_enable_hook_runs_for_that_plugin_and_organisation(two_orgs, dbsession):
    on, off, _users = two_orgs
    visits = dbsession.query(consultroom_hello.Visit).all()
    assert [(v.organisation_id, v.note) for v in visits] == [(on.id, "enabled")]
