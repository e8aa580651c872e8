"""A plugin's settings on enable: its declared defaults filled in, given
values checked and converted by its options (the command line's
``--set`` and the ``enable_plugin`` fixture), and what the enable hook gets."""

from importlib.metadata import EntryPoint

import pytest
from fake_plugins import configured

from consultroom.accounts.models import Role
from consultroom.plugins import PluginUnavailable, enablement, set_enabled
from consultroom.plugins.registry import PluginRegistry
from consultroom.tenancy.options import ADVANCED_SETTINGS, ChoiceOption, SettingsError


def discover(name):
    ep = EntryPoint(name=name, value=f"fake_plugins.{name}", group="consultroom.plugins")
    return PluginRegistry.discover(eps=[ep])


DEFAULTS = {"keep": True, "delete_after_days": 0, "tone": "plain", "site": ""}


@pytest.fixture
def plugins():
    configured.ENABLED.clear()
    return discover("configured")


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme")


def test_enabling_stores_the_declared_defaults_and_tells_the_hook(plugins, dbsession, org):
    row = set_enabled(plugins, dbsession, org, "configured", True)
    assert row.settings == DEFAULTS
    assert configured.ENABLED == [("acme", DEFAULTS)]


def test_given_settings_are_checked_and_converted(plugins, dbsession, org):
    given = {
        "keep": "no",
        "delete_after_days": "30",
        "tone": "warm",
        "site": " https://a.example/x ",
    }
    row = set_enabled(plugins, dbsession, org, "configured", True, given)
    expected = {
        "keep": False,
        "delete_after_days": 30,
        "tone": "warm",
        "site": "https://a.example/x",
    }
    assert row.settings == expected
    assert configured.ENABLED == [("acme", expected)]


def test_re_enabling_keeps_the_stored_settings(plugins, dbsession, org):
    set_enabled(plugins, dbsession, org, "configured", True, {"tone": "warm"})
    set_enabled(plugins, dbsession, org, "configured", False)
    row = set_enabled(plugins, dbsession, org, "configured", True, {"keep": False})
    assert row.settings == {**DEFAULTS, "tone": "warm", "keep": False}


@pytest.mark.parametrize(
    "given, message",
    [
        ({"keep": "maybe"}, "keep is true or false, not maybe"),
        (
            {"delete_after_days": "abc"},
            "delete_after_days is a whole number from 0 to 365, not abc",
        ),
        ({"delete_after_days": 999}, "delete_after_days is a whole number from 0 to 365, not 999"),
        ({"keep": False, "delete_after_days": True}, "a whole number from 0 to 365, not True"),
        ({"tone": ["warm"]}, "tone is one of plain, warm, not ['warm']"),
        ({"tone": {"warm": 1}}, "tone is one of plain, warm, not {'warm': 1}"),
        ({"site": "javascript:alert(1)"}, "site is an http or https address, not javascript:"),
        ({"site": "https://" + "x" * 40}, "site is at most 40 characters long"),
        ({"site": 5}, "site is text, not 5"),
        (
            {"nope": "1"},
            "there is no setting nope (the settings are: keep, delete_after_days, tone, site)",
        ),
        ({"delete_after_days": "3"}, "delete_after_days: cannot both keep and delete"),
    ],
)
def test_a_bad_setting_is_refused_clearly_and_nothing_is_enabled(
    plugins, dbsession, org, given, message
):
    with pytest.raises(SettingsError) as excinfo:
        set_enabled(plugins, dbsession, org, "configured", True, given)
    assert message in str(excinfo.value)
    assert enablement(dbsession, org, "configured") is None and configured.ENABLED == []


def test_a_plugin_without_settings_takes_none(dbsession, org):
    plugins = discover("hijack")
    with pytest.raises(PluginUnavailable, match="plugin 'hijack' has no settings"):
        set_enabled(plugins, dbsession, org, "hijack", True, {"x": "1"})
    assert set_enabled(plugins, dbsession, org, "hijack", True).settings == {}


def test_the_fixture_enables_with_settings(enable_plugin, org, make_user, webtest, login):
    row = enable_plugin(org, "hello", settings={"greeting": "Good morning"})
    assert row.settings["greeting"] == "Good morning"
    web = webtest("acme")
    login(web, make_user(org, role=Role.practitioner))
    assert "Good morning" in web.get("/hello").text
    with pytest.raises(SettingsError, match="there is no setting colour"):
        enable_plugin(org, "hello", settings={"colour": "red"})


def test_a_stored_list_or_object_is_no_choice_and_does_not_break(org, dbsession):
    option = ChoiceOption("tone", "Tone", default="plain", choices=(("plain", "Plain"),))
    assert option.coerce(["plain"]) == "plain" and option.coerce({"a": 1}) == "plain"
    org.settings = {"two_factor": ["require"], "video_fit": {"contain": True}}
    assert org.options == ADVANCED_SETTINGS.values({})
