"""Realtime: websockets and the message bus between app processes.

``message_bus(registry)`` is the bus (an ``IMessageBus``; ``realtime.bus =
memory | redis``); channel names are made by the functions below.
``kick_user`` closes a user's open sockets in every process. The protocol is
in docs/realtime.md.
"""

from consultroom.db import after_commit, cache
from consultroom.realtime.bus import IMessageBus, make_bus, message_bus

# Which cached tables (consultroom.db.cache) a process changed.
CACHE_CHANNEL = "tables"


def user_channel(user_id):
    return f"user:{user_id}"


def department_channel(department_id):
    return f"dept:{department_id}"


def unassigned_channel(organisation_id):
    """Visits with neither practitioner nor department: the organisation admins'."""
    return f"unassigned:{organisation_id}"


def room_channel(room_id):
    return f"room:{room_id}"


def peer_channel(peer):
    return f"peer:{peer}"


def client_channel(appointment_id):
    """The waiting client's sockets (keyed by appointment: known before the
    visit exists)."""
    return f"client:{appointment_id}"


def walk_in_channel(organisation_id):
    """The organisation's open walk-in widget pages (consultroom.widgets.live)."""
    return f"walkin:{organisation_id}"


def walk_in_changed(organisation_id):
    """(channel, message) telling the organisation's walk-in widgets that who
    they offer may have changed (a switch, a room, availability, a booking):
    each recomputes its list and sends it if it changed."""
    return walk_in_channel(organisation_id), {"type": "_walk_in_changed"}


def kick_user(registry, user_id):
    """Close every open websocket of user ``user_id``, in every process
    (the user was disabled, or logged out everywhere)."""
    message_bus(registry).publish(user_channel(user_id), {"type": "_kick"})


def publish_after_commit(request, channel, message):
    """Publish ``message`` on the bus once the request's transaction commits:
    sockets hear only of changes that happened."""
    after_commit(request, message_bus(request.registry).publish, channel, message)


def _after_reconnect(registry):
    """What was published while Redis was away is lost: every socket
    resyncs, and the caches are emptied (their change messages may be among
    the lost)."""

    def resync():
        cache.tables_changed(cache.cached_tables(), notify=False)
        for connection in list(registry["realtime_connections"]):
            connection.resync()

    return resync


class _CacheRelay:
    """Tells the other processes which cached tables changed here, and
    empties this process's caches when they say so."""

    def __init__(self, bus):
        self.bus = bus
        bus.subscribe(CACHE_CHANNEL, self.received)
        cache.connect_other_processes(self.publish)

    def publish(self, tables):
        self.bus.publish(CACHE_CHANNEL, {"type": "_tables_changed", "tables": sorted(tables)})

    def received(self, message):
        cache.tables_changed(message["tables"], notify=False)


def _set_up_bus(registry, settings):
    if registry.queryUtility(IMessageBus) is None:
        registry.registerUtility(make_bus(settings), IMessageBus)
    bus = message_bus(registry)
    bus.on_reconnect(_after_reconnect(registry))
    registry["realtime_cache_relay"] = _CacheRelay(bus)


def includeme(config):
    from consultroom.realtime.connection import Limits

    settings = config.get_settings()
    registry = config.registry
    # At commit, after the plugins' includeme: a bus a plugin registered is
    # the one used and told to resync, and the configured one is not started.
    config.action(None, _set_up_bus, args=(registry, settings))
    # Internal state, not services: kept under plain keys.
    registry["realtime_limits"] = Limits.from_settings(settings)
    # This process's open sockets, told to resync after a Redis reconnect.
    registry["realtime_connections"] = set()
    # Under the Host check: the socket must not read the site of a foreign Host.
    config.add_tween(
        "consultroom.realtime.views.websocket_tween_factory",
        under="consultroom.web.sites.host_tween_factory",
    )
    config.include(".door")
    config.add_route("realtime_ws", "/ws", site="organisation")
    config.scan(".views")
