"""A test plugin for the room's doors (docs/plugins.md, "The room"): a
toolbar button, a side-panel tab and an overlay in the consultation room, a
badge on the staff's waiting list (with the appointment's message, sent
again when the message changes), and the realtime message type
``roomkit.ping``, which its script sends through the page's socket
(``window.consultroom.socket``) and whose answer it shows."""

from markupsafe import Markup, escape

from consultroom.hookspecs import (
    RoomButton,
    RoomOverlay,
    RoomScript,
    RoomTab,
    WaitingAnnotation,
    hookimpl,
)
from consultroom.plugins import PluginInfo
from consultroom.realtime import room_channel
from consultroom.realtime.connection import Refused
from consultroom.room.models import RoomMember
from consultroom.waitingroom.live import entry_changed

plugin = PluginInfo(
    name="Room kit",
    description="Pings everyone in a consultation room.",
    author="Consultroom developers",
    requires_core=">=0.1,<1",
)

SCRIPT = "/roomkit-static/roomkit.js"


@hookimpl
def consultroom_room_regions(request, role, room):
    regions = [
        RoomButton("roomkit.ping", "Ping everyone"),
        RoomTab(
            "roomkit",
            "Room kit",
            Markup("<p data-roomkit-log>No pings yet.</p><p>You are the {}.</p>").format(
                escape(role)
            ),
        ),
        RoomOverlay(
            "roomkit",
            "Room kit notices",
            Markup('<span class="room-notice" data-roomkit-notice></span>'),
        ),
        RoomScript(SCRIPT),
    ]
    if role == "guest":  # guests get the overlay only: a role decides what it sees
        return regions[2:]
    return regions


@hookimpl
def consultroom_waiting_list_annotations(request, appointments):
    notes = []
    for appointment in appointments:
        notes.append(WaitingAnnotation(appointment.id, f"Room kit #{appointment.id}", "ok"))
        if appointment.message:
            notes.append(WaitingAnnotation(appointment.id, appointment.message, "warning"))
    return notes


@hookimpl
def consultroom_appointment_changed(request, appointment, changes):
    """The message is a badge: a new one goes to every waiting list."""
    if "message" in changes:
        entry_changed(request, appointment.id)


def ping(connection, message):
    """``{"type": "roomkit.ping"}`` from anyone in a room: the sender gets
    ``roomkit.pong``, everyone in the room ``roomkit.pinged`` with the
    sender's name."""
    room = connection.role.room
    if room is None:
        raise Refused("forbidden", "Join the room first.")

    def announce(dbsession, events):
        member = dbsession.get(RoomMember, connection.peer)
        name = member.name if member is not None else ""
        events.add(room_channel(room), {"type": "roomkit.pinged", "name": name})

    connection.transaction(announce)
    connection.send({"type": "roomkit.pong", "role": connection.role.name})


def includeme(config):
    config.add_realtime_message_type("roomkit.ping", ping)
    config.add_plugin_static_view("roomkit-static", "consultroom_roomkit:static")
