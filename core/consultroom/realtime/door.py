"""The realtime door: the roles a socket may say hello as, and the message
types it may send, each registered by the feature or plugin that handles it.

A role is ``add_realtime_role(name, authenticate)``: ``authenticate(connection,
hello)`` returns the role object (``name``, ``start()``, ``on_bus(message)``,
``stop()``) or raises ``Refused``. A plugin's roles are gated like its types:
named ``<plugin id>.<name>``, and a hello with one from an organisation that
has not enabled the plugin gets the answer of a role nobody registered. A
message type is
``add_realtime_message_type(name, handler, roles)``: ``handler(connection,
message)`` runs for a socket of one of ``roles``; ``connection.role`` is its
role object. Before a handler runs, the connection has applied the size limit
and the flood throttle, and here the tenant gate: a plugin's type (named
``<plugin id>.<anything>``) is unknown to a socket of an organisation that has
not enabled the plugin, exactly like a type nobody registered.
"""

from dataclasses import dataclass, field

from pyramid.exceptions import ConfigurationError

from consultroom.i18n import _
from consultroom.plugins.gating import cached_plugin_ids, enabled_plugin_ids

KEY = "realtime_door"
ALL_ROLES = ("staff", "client", "guest")
# The connection's own types, answered before the door is asked.
RESERVED = {"hello", "ping", "pong"}
# What a hello with a role nobody registered (or gated off) is told.
UNKNOWN_ROLE = _("Unknown role or token.")


@dataclass(frozen=True)
class MessageType:
    handler: object
    roles: frozenset
    plugin: str | None  # the plugin id, or None for the core's own types


@dataclass
class Door:
    roles: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)
    # ``mark(dbsession, peers, now)``: the features' presence rows of this
    # process's open sockets (consultroom.room.presence), every
    # ``realtime.presence_seconds``, in one transaction.
    presence: list = field(default_factory=list)

    def handler_for(self, connection, kind):
        """The handler of message type ``kind`` for ``connection``, or None
        when the type is unknown to it (never registered, not for its role,
        or its plugin is off for its organisation)."""
        registered = self.types.get(kind)
        if registered is None or connection.role.name not in registered.roles:
            return None
        if registered.plugin is not None and registered.plugin not in _enabled(connection):
            return None
        return registered.handler


def _enabled(connection):
    """The plugins the socket's organisation enabled: from the cache when it
    holds them (no transaction: after a commit the request's organisation
    is expired, and reading its id would cost a query on every frame), else
    asked in a transaction of its own."""
    found = cached_plugin_ids(connection.registry, connection.organisation_id)
    if found is not None:
        return found
    request = connection.request
    with request.tm:
        return enabled_plugin_ids(request)


def door(registry):
    found = registry.get(KEY)
    if found is None:
        found = registry[KEY] = Door()
    return found


def _gated(plugin_id, authenticate):
    """``authenticate``, for the organisations that enabled ``plugin_id``;
    elsewhere the role is unknown (the hello view's own answer)."""

    def gated(connection, hello):
        from consultroom.realtime.connection import Refused  # it imports this module

        request = connection.request
        with request.tm:
            enabled = plugin_id in enabled_plugin_ids(request)
        if not enabled:
            raise Refused("unauthorized", UNKNOWN_ROLE)
        return authenticate(connection, hello)

    return gated


def add_realtime_role(config, name, authenticate):
    """``{"type":"hello","role":name}`` is answered by ``authenticate``. A
    plugin's roles are named ``<plugin id>.<name>`` and gated per
    organisation."""
    plugin = config.registry.plugins.by_package(config.package_name)
    if plugin is not None:
        if not name.startswith(f"{plugin.id}."):
            raise ConfigurationError(
                f"plugin {plugin.id!r} may only add realtime roles named {plugin.id}.*"
            )
        authenticate = _gated(plugin.id, authenticate)
    registry = config.registry
    config.action(
        ("realtime role", name), lambda: door(registry).roles.__setitem__(name, authenticate)
    )


def add_realtime_message_type(config, name, handler, roles=ALL_ROLES):
    """Socket messages of type ``name`` from a socket of one of ``roles``
    go to ``handler(connection, message)``. A plugin's types are named
    ``<plugin id>.<name>`` and gated per organisation."""
    plugin = config.registry.plugins.by_package(config.package_name)
    if name in RESERVED:
        raise ConfigurationError(f"realtime message type {name!r} is the connection's own")
    if plugin is not None and not name.startswith(f"{plugin.id}."):
        raise ConfigurationError(
            f"plugin {plugin.id!r} may only add realtime message types named {plugin.id}.*"
        )
    registered = MessageType(handler, frozenset(roles), plugin.id if plugin else None)
    registry = config.registry
    config.action(
        ("realtime message type", name),
        lambda: door(registry).types.__setitem__(name, registered),
    )


def includeme(config):
    config.add_directive("add_realtime_role", add_realtime_role)
    config.add_directive("add_realtime_message_type", add_realtime_message_type)
