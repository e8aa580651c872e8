"""The ``background`` socket message (static/js/effects.js): a peer in a
room says whether its background is now replaced by a picture, and the
others in the room hear it (``{"type": "background", "peer", "replaced"}``)
to show the organisation's notice. Only when the organisation asks for the
notice ("warn about a replaced background"): otherwise it is refused."""

from consultroom.i18n import _
from consultroom.realtime import room_channel
from consultroom.realtime.connection import Refused
from consultroom.waitingroom.sockets import organisation_of


def background(connection, message):
    role = connection.role
    room = getattr(role, "room", None)
    if room is None:
        raise Refused("forbidden", _("You are not in a consultation room."))
    replaced = message.get("replaced")
    if not isinstance(replaced, bool):
        raise Refused("malformed", _("Say whether the background is replaced: true or false."))
    warn = connection.transaction(
        lambda dbsession, events: organisation_of(connection, dbsession).options[
            "background_warning"
        ]
    )
    if not warn:
        raise Refused("forbidden", _("This organisation does not warn about backgrounds."))
    connection.bus.publish(
        room_channel(room),
        {"type": "background", "peer": connection.peer, "replaced": replaced},
    )


def includeme(config):
    config.add_realtime_message_type("background", background)
    config.add_static_view("segmentation", "consultroom:room/segmentation", cache_max_age=86400)
