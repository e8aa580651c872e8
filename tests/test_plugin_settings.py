"""A plugin's settings on enable: its declared defaults filled in, given
values checked and converted by its options (the command line's
``--set`` and the ``enable_plugin`` fixture), and what the enable hook gets."""

from importlib.metadata import EntryPoint

import pytest
from fake_plugins import configured

from consultroom.accounts.models import Role
from consultroom.plugins import (
    PluginUnavailable,
    enablement,
    seal_stored_secrets,
    set_enabled,
    settings_of,
)
from consultroom.plugins.registry import PluginRegistry
from consultroom.secretbox import secret_box
from consultroom.tenancy.options import ADVANCED_SETTINGS, SEALED, ChoiceOption, SettingsError


def discover(name):
    ep = EntryPoint(name=name, value=f"fake_plugins.{name}", group="consultroom.plugins")
    return PluginRegistry.discover(eps=[ep])


DEFAULTS = {"keep": True, "delete_after_days": 0, "tone": "plain", "site": "", "token": ""}


@pytest.fixture
def plugins():
    configured.ENABLED.clear()
    return discover("configured")


@pytest.fixture
def box(app):
    return secret_box(app.registry)


@pytest.fixture
def org(make_organisation):
    return make_organisation("acme")


def test_enabling_stores_the_declared_defaults_and_tells_the_hook(plugins, dbsession, org, box):
    row = set_enabled(plugins, dbsession, org, "configured", True, box=box)
    assert row.settings == DEFAULTS
    assert configured.ENABLED == [("acme", DEFAULTS)]


def test_given_settings_are_checked_and_converted(plugins, dbsession, org, box):
    given = {
        "keep": "no",
        "delete_after_days": "30",
        "tone": "warm",
        "site": " https://a.example/x ",
    }
    row = set_enabled(plugins, dbsession, org, "configured", True, given, box)
    expected = {
        "keep": False,
        "delete_after_days": 30,
        "tone": "warm",
        "site": "https://a.example/x",
        "token": "",
    }
    assert row.settings == expected
    assert configured.ENABLED == [("acme", expected)]


def test_re_enabling_keeps_the_stored_settings(plugins, dbsession, org, box):
    set_enabled(plugins, dbsession, org, "configured", True, {"tone": "warm"}, box)
    set_enabled(plugins, dbsession, org, "configured", False, box=box)
    row = set_enabled(plugins, dbsession, org, "configured", True, {"keep": False}, box)
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
            "there is no setting nope"
            " (the settings are: keep, delete_after_days, tone, site, token)",
        ),
        ({"delete_after_days": "3"}, "delete_after_days: cannot both keep and delete"),
    ],
)
def test_a_bad_setting_is_refused_clearly_and_nothing_is_enabled(
    plugins, dbsession, org, box, given, message
):
    with pytest.raises(SettingsError) as excinfo:
        set_enabled(plugins, dbsession, org, "configured", True, given, box)
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


TOKEN = "tok-0123456789abcdef"


def test_a_secret_setting_is_stored_sealed_and_the_hook_gets_it_opened(
    plugins, dbsession, org, box
):
    row = set_enabled(plugins, dbsession, org, "configured", True, {"token": f" {TOKEN} "}, box)
    assert row.settings["token"].startswith(SEALED) and TOKEN not in str(row.settings)
    assert configured.ENABLED == [("acme", {**DEFAULTS, "token": TOKEN})]
    # Enabled again without it, the sealed secret stays as it was.
    sealed = row.settings["token"]
    set_enabled(plugins, dbsession, org, "configured", False, box=box)
    row = set_enabled(plugins, dbsession, org, "configured", True, {"tone": "warm"}, box)
    assert row.settings["token"] == sealed
    assert configured.ENABLED[-1] == ("acme", {**DEFAULTS, "tone": "warm", "token": TOKEN})


def test_a_plugin_with_a_secret_is_not_enabled_without_the_box(plugins, dbsession, org):
    with pytest.raises(TypeError, match="has secret settings: give the secret box"):
        set_enabled(plugins, dbsession, org, "configured", True)
    assert enablement(dbsession, org, "configured") is None


def test_a_secret_given_to_options_without_the_box_is_refused(box):
    options = configured.plugin.settings
    with pytest.raises(TypeError, match="stored sealed"):
        options.validate({"token": TOKEN})
    assert options.validate({"tone": "warm"})["token"] == ""  # none given: none needed
    assert options.opened(options.validate({"token": TOKEN}, box=box), box)["token"] == TOKEN


def test_settings_of_fills_defaults_and_opens_secrets(app, dbsession, org, enable_plugin, box):
    assert settings_of(app.registry, dbsession, org, "hello") == {
        "greeting": "Hello",
        "signing_key": "",
    }
    enable_plugin(org, "hello", settings={"signing_key": TOKEN})
    assert settings_of(app.registry, dbsession, org, "hello")["signing_key"] == TOKEN
    with pytest.raises(PluginUnavailable):
        settings_of(app.registry, dbsession, org, "nosuch")


def test_secrets_stored_before_they_were_sealed_are_sealed_once(
    app, dbsession, org, enable_plugin, box
):
    row = enable_plugin(org, "hello")
    row.settings = {"greeting": "Hi", "signing_key": TOKEN}  # as stored before
    other = enable_plugin(org, "keycard")
    dbsession.flush()
    plugins = app.registry.plugins
    assert seal_stored_secrets(plugins, dbsession, box) == [(org.id, "hello")]
    assert row.settings["signing_key"].startswith(SEALED) and row.settings["greeting"] == "Hi"
    assert settings_of(app.registry, dbsession, org, "hello")["signing_key"] == TOKEN
    assert seal_stored_secrets(plugins, dbsession, box) == []
    assert SEALED not in str(other.settings)
