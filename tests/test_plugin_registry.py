"""Plugin discovery and validation: broken, incompatible and misspelled
plugins, and the start-up audit of plugin routes."""

from importlib.metadata import EntryPoint

import pytest
from pyramid.exceptions import ConfigurationError

from consultroom.app import make_config
from consultroom.plugins import PluginUnavailable, set_enabled
from consultroom.plugins.registry import PluginHookError, PluginRegistry


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


def test_app_still_starts_with_broken_plugins(app_settings, _app_dbmaker, db_connection):
    registry = discover("broken", "incompatible")
    make_config(app_settings, plugins=registry, dbmaker=_app_dbmaker)


def test_unusable_plugin_cannot_be_enabled(dbsession, make_organisation):
    registry = discover("incompatible")
    org = make_organisation()
    with pytest.raises(PluginUnavailable, match="requires core >=99"):
        set_enabled(registry, dbsession, org, "incompatible", True)
    with pytest.raises(PluginUnavailable, match="no plugin 'nope' is installed"):
        set_enabled(registry, dbsession, org, "nope", True)


def test_misspelled_hook_fails_loudly_with_a_suggestion():
    with pytest.raises(PluginHookError) as excinfo:
        discover("typo")
    assert str(excinfo.value) == (
        "plugin 'typo' implements unknown hook 'consultroom_menu_itmes'"
        " (did you mean 'consultroom_menu_items'?)"
    )


def test_hook_with_unknown_argument_is_refused():
    from pluggy import PluginValidationError

    with pytest.raises(PluginValidationError, match="user"):
        discover("badargs")


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
