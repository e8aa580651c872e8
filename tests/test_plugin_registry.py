"""Plugin discovery and validation: broken, incompatible and misspelled
plugins (and core hook modules), a plugin's identity, and the start-up
audit of plugin routes."""

import ast
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError
from webtest import TestApp

from consultroom import app as application
from consultroom.app import make_config
from consultroom.plugins import PluginUnavailable, set_enabled
from consultroom.plugins.registry import BrokenPluginError, PluginHookError, PluginRegistry
from consultroom.testing import BASE_DOMAIN


def entry_point(name, module=None):
    return EntryPoint(
        name=name, value=module or f"fake_plugins.{name}", group="consultroom.plugins"
    )


def discover(*names):
    return PluginRegistry.discover(eps=[entry_point(n) for n in names])


def test_broken_and_incompatible_plugins_are_reported_not_loaded():
    registry = discover("broken", "incompatible", "noinfo")
    broken, incompatible, noinfo = (registry.get(n) for n in ("broken", "incompatible", "noinfo"))
    assert "cannot be imported: ModuleNotFoundError" in broken.problem
    assert incompatible.problem == "requires core >=99, this is 0.1.0"
    assert "does not define `plugin = PluginInfo(...)`" in noinfo.problem
    assert registry.usable() == []
    assert (broken.broken, incompatible.broken, noinfo.broken) == (True, False, True)


def test_app_starts_beside_a_plugin_for_another_core(app_settings, _app_dbmaker, db_connection):
    registry = discover("incompatible")
    make_config(app_settings, plugins=registry, dbmaker=_app_dbmaker)


@pytest.mark.parametrize(
    "names, message",
    [
        (
            ["typo"],
            "plugin 'typo' is broken: implements unknown hook 'consultroom_menu_itmes'"
            " (did you mean 'consultroom_menu_items'?)",
        ),
        (
            ["broken", "incompatible"],
            "plugin 'broken' is broken: cannot be imported: ModuleNotFoundError:"
            " No module named 'consultroom_does_not_exist'",
        ),
    ],
)
def test_a_broken_plugin_stops_the_web_app_in_one_line(
    names, message, app_settings, _app_dbmaker, db_connection
):
    with pytest.raises(BrokenPluginError) as excinfo:
        make_config(app_settings, plugins=discover(*names), dbmaker=_app_dbmaker)
    assert str(excinfo.value) == (
        f"{message} (fix or uninstall it, or leave it out of the consultroom.plugins setting)"
    )


def test_unusable_plugin_cannot_be_enabled(dbsession, make_organisation):
    registry = discover("incompatible")
    org = make_organisation()
    with pytest.raises(PluginUnavailable, match="requires core >=99"):
        set_enabled(registry, dbsession, org, "incompatible", True)
    with pytest.raises(PluginUnavailable, match="no plugin 'nope' is installed"):
        set_enabled(registry, dbsession, org, "nope", True)


def test_misspelled_hook_makes_the_plugin_broken_with_a_suggestion():
    typo = discover("typo").get("typo")
    assert typo.broken and typo.problem == (
        "implements unknown hook 'consultroom_menu_itmes' (did you mean 'consultroom_menu_items'?)"
    )


def test_hook_with_unknown_argument_makes_the_plugin_broken():
    registry = discover("badargs")
    assert registry.get("badargs").problem == (
        "implements 'consultroom_menu_items' with argument 'user', which the hook does not have"
        " (it has: request)"
    )
    assert registry.usable() == [] and registry.pm.get_plugin("badargs") is None


def test_a_misspelt_core_hook_stops_start_up(
    monkeypatch, app_settings, _app_dbmaker, db_connection
):
    monkeypatch.setattr(
        application, "CORE_PLUGINS", [*application.CORE_PLUGINS, "fake_plugins.coretypo"]
    )
    with pytest.raises(PluginHookError) as excinfo:
        make_config(app_settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker)
    assert str(excinfo.value) == (
        "core module 'fake_plugins.coretypo' implements unknown hook 'consultroom_menu_itmes'"
        " (did you mean 'consultroom_menu_items'?)"
    )


def test_a_core_hook_with_an_unknown_argument_stops_start_up(
    monkeypatch, app_settings, _app_dbmaker, db_connection
):
    monkeypatch.setattr(application, "CORE_PLUGINS", ["fake_plugins.badargs"])
    with pytest.raises(PluginHookError, match="^core module 'fake_plugins.badargs' implements"):
        make_config(app_settings, plugins=PluginRegistry(), dbmaker=_app_dbmaker)


CORE = Path(application.__file__).parent


def _modules_with_hookimpls():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        if any(
            isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Name) and d.id == "hookimpl" for d in node.decorator_list)
            for node in ast.walk(tree)
        ):
            yield ".".join(("consultroom", *path.relative_to(CORE).with_suffix("").parts))


def test_every_core_hook_module_is_in_the_one_list():
    # A module left out would never be called; one registered from a
    # feature's includeme as well would be registered twice.
    assert sorted(_modules_with_hookimpls()) == sorted(application.CORE_PLUGINS)
    callers = [p for p in CORE.rglob("*.py") if "register_core(" in p.read_text()]
    assert sorted(p.relative_to(CORE).as_posix() for p in callers) == [
        "app.py",
        "plugins/registry.py",
    ]


def test_two_plugins_under_one_namespace_package_each_own_their_routes(
    app_settings, _app_dbmaker, dbsession, make_organisation
):
    registry = PluginRegistry.discover(
        eps=[
            entry_point("one", "fake_plugins.acme.consultroom_one"),
            entry_point("two", "fake_plugins.acme.consultroom_two"),
        ]
    )
    assert registry.by_package("fake_plugins.acme.consultroom_two.views").id == "two"
    assert registry.by_package("fake_plugins.acme") is None
    config = make_config(app_settings, plugins=registry, dbmaker=_app_dbmaker)
    org = make_organisation("acme")
    set_enabled(registry, dbsession, org, "two", True)
    dbsession.flush()
    web = TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": f"acme.{BASE_DOMAIN}"})
    assert web.get("/acme-two").json == {"plugin": "two"}
    web.get("/acme-one", status=404)


def test_two_plugins_may_not_share_a_package():
    registry = discover("hijack", "ungated")
    assert registry.get("hijack").usable
    assert registry.get("ungated").problem == (
        "has the same package 'fake_plugins' as plugin 'hijack':"
        " a plugin's entry point must name a package of its own"
    )


def test_plugin_route_without_gating_is_refused(app_settings, _app_dbmaker, db_connection):
    with pytest.raises(ConfigurationError, match="plugin 'ungated' registers view .* not gated"):
        make_config(app_settings, plugins=discover("ungated"), dbmaker=_app_dbmaker)


def test_plugin_view_on_a_core_route_is_refused(app_settings, _app_dbmaker, db_connection):
    with pytest.raises(ConfigurationError, match="plugin 'hijack' registers view .*'login'"):
        make_config(app_settings, plugins=discover("hijack"), dbmaker=_app_dbmaker)


@pytest.mark.parametrize("name, route", [("rawstatic", "'__raw/'"), ("everywhere", "None")])
def test_static_and_exception_views_of_plugins_are_audited_too(
    name, route, app_settings, _app_dbmaker, db_connection
):
    with pytest.raises(ConfigurationError, match=f"plugin '{name}' registers view .* {route}"):
        make_config(app_settings, plugins=discover(name), dbmaker=_app_dbmaker)


def test_plugin_subscribers_are_refused(app_settings, _app_dbmaker, db_connection):
    with pytest.raises(ConfigurationError, match="plugin 'listener' adds subscriber .*hook"):
        make_config(app_settings, plugins=discover("listener"), dbmaker=_app_dbmaker)


def test_plugin_list_setting_hides_installed_plugins(app_settings, _app_dbmaker, db_connection):
    config = make_config({**app_settings, "consultroom.plugins": "other"}, dbmaker=_app_dbmaker)
    assert config.registry.plugins.get("hello") is None


def test_core_hooks_run_for_every_organisation(app, plugin_registry):
    # The core's own implementations are never left out by tenant gating.
    app_hooks = plugin_registry.hooks_for(set())
    impls = app_hooks.consultroom_menu_items.get_hookimpls()
    assert impls and all(i.plugin_name.startswith("core:") for i in impls)
    hello_hooks = plugin_registry.hooks_for({"hello"})
    names = {i.plugin_name for i in hello_hooks.consultroom_menu_items.get_hookimpls()}
    assert "hello" in names


def test_tenant_hooks_expose_only_contract_hooks(plugin_registry):
    with pytest.raises(AttributeError):
        plugin_registry.hooks_for(set()).register  # noqa: B018


def test_a_plugin_declares_hooks_that_other_plugins_implement():
    # "aprovider" sorts (and loads) before "providing", whose hookspecs it implements.
    registry = discover("aprovider", "providing")
    assert [p.id for p in registry.usable()] == ["aprovider", "providing"]
    hooks = registry.hooks_for({"aprovider", "providing"})
    assert hooks.consultroom_providing_things(request=None) == [["a thing"]]
    assert registry.hooks_for({"providing"}).consultroom_providing_things(request=None) == []


def test_a_plugins_hook_needs_its_declaring_plugin_and_its_name():
    alone = discover("aprovider").get("aprovider")
    assert alone.broken and "unknown hook 'consultroom_providing_things'" in alone.problem
    bad = discover("badspec").get("badspec")
    assert bad.broken and bad.problem == (
        "declares hook 'consultroom_menu_things': a plugin's hooks start with"
        " 'consultroom_badspec_'"
    )
