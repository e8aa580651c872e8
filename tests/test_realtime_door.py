"""The realtime door's registrations: a plugin's message types carry its
prefix and its gate; the connection's own types cannot be taken over."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from consultroom.realtime.door import door

# No database.
pytestmark = pytest.mark.sqlite_only


def handler(connection, message):
    """A door handler (never called here)."""


def configurator(plugin_registry, package):
    config = Configurator(package=package)
    config.registry.plugins = plugin_registry
    config.include("consultroom.realtime.door")
    return config


def test_a_plugins_type_is_gated_by_its_plugin_and_a_cores_is_not(plugin_registry):
    import consultroom_hello

    config = configurator(plugin_registry, consultroom_hello)
    config.add_realtime_message_type("hello.nudge", handler, roles=("staff",))
    config.commit()
    core = configurator(plugin_registry, "consultroom.room")
    core.add_realtime_message_type("nudge", handler)
    core.commit()
    nudge = door(config.registry).types["hello.nudge"]
    assert (nudge.plugin, nudge.roles) == ("hello", frozenset({"staff"}))
    assert door(core.registry).types["nudge"].plugin is None


def test_a_plugins_type_must_carry_its_prefix(plugin_registry):
    import consultroom_hello

    config = configurator(plugin_registry, consultroom_hello)
    with pytest.raises(ConfigurationError, match=r"hello\.\*"):
        config.add_realtime_message_type("nudge", handler)


@pytest.mark.parametrize("name", ["hello", "ping", "pong"])
def test_the_connections_own_types_are_not_for_handlers(plugin_registry, name):
    config = configurator(plugin_registry, "consultroom.room")
    with pytest.raises(ConfigurationError, match="connection's own"):
        config.add_realtime_message_type(name, handler)


def test_two_handlers_of_one_type_conflict(plugin_registry):
    config = configurator(plugin_registry, "consultroom.room")
    config.add_realtime_message_type("nudge", handler)
    config.add_realtime_message_type("nudge", lambda connection, message: None)
    with pytest.raises(ConfigurationError):
        config.commit()


def test_a_plugins_role_must_carry_its_prefix_and_a_cores_need_not(plugin_registry):
    import consultroom_hello

    config = configurator(plugin_registry, consultroom_hello)
    with pytest.raises(ConfigurationError, match=r"realtime roles named hello\.\*"):
        config.add_realtime_role("visitor", handler)
    config.add_realtime_role("hello.visitor", handler)
    config.commit()
    core = configurator(plugin_registry, "consultroom.room")
    core.add_realtime_role("visitor", handler)
    core.commit()
    # The core's role is its own function; the plugin's is behind the gate.
    assert door(core.registry).roles["visitor"] is handler
    assert door(config.registry).roles["hello.visitor"] is not handler
