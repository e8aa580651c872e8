"""Chat on the page's socket, for one consultation at a time.

``chat.send`` (``text``) writes a message and ``chat.history`` asks for the
messages so far. Which consultation: the room the socket is in (staff,
client or guest alike); else, where the organisation shows messages in the
waiting room, a waiting client's own appointment, or for staff the
appointment they name (``appointment``: one they may see). A message goes
to everyone in the room, or to the waiting client and the appointment's
practitioner; the history only to who asked.

The core has already checked the frame's size, the flood throttle and that
the organisation enabled chat (a ``chat.*`` frame elsewhere is an unknown
type).
"""

import weakref

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment, Status
from consultroom.realtime import client_channel, room_channel, user_channel
from consultroom.realtime.connection import Refused
from consultroom.realtime.fields import integer
from consultroom.room.models import Room, RoomMember
from consultroom.waitingroom.live import entry_changed
from consultroom_chat import service
from consultroom_chat.i18n import _
from consultroom_chat.models import Author, Conversation
from consultroom_chat.settings import settings_of

ROLES = ("staff", "client", "guest")
# connection -> (room id, conversation id, the sender's name in it)
_ROOMS = weakref.WeakKeyDictionary()


class Closed(Exception):
    """Messages are not shown where this socket is (a waiting room, with
    the organisation's setting off)."""


def _waiting_appointment(connection, message, dbsession):
    role, request = connection.role, connection.request
    if role.name == "client":
        return dbsession.get(Appointment, role.appointment_id)
    if role.name == "staff":
        appointment = dbsession.scalar(
            visible_appointments(request, role.staff).where(
                Appointment.id == integer(message, "appointment"),
                Appointment.status != Status.cancelled,
            )
        )
        if appointment is not None:
            return appointment
        raise Refused("not_found", _("This appointment does not exist."))
    raise Refused("forbidden", _("Join the consultation first."))


def _consultation(connection, message, dbsession):
    """(conversation, bus channels that hear of a new message, author name)."""
    role, request = connection.role, connection.request
    if role.room is not None:
        return _in_room(connection, dbsession, role.room)
    if not settings_of(request)["in_waiting_room"]:
        raise Closed()
    appointment = _waiting_appointment(connection, message, dbsession)
    channels = [client_channel(appointment.id)]
    channels += [user_channel(i) for i in {appointment.practitioner_id, _staff_id(role)} if i]
    name = role.staff.name if role.name == "staff" else role.display_name
    return service.consultation_of(request, appointment=appointment), channels, name


def _in_room(connection, dbsession, room_id):
    """The room's conversation; what a socket learnt of its room is kept
    while it stays there, so that a message costs one insert on the way."""
    known = _ROOMS.get(connection)
    if known is None or known[0] != room_id:
        room = dbsession.get(Room, room_id)
        member = dbsession.get(RoomMember, connection.peer)
        conversation = service.consultation_of(connection.request, room=room)
        known = (room_id, conversation.id, member.name if member is not None else "")
        _ROOMS[connection] = known
    else:
        conversation = dbsession.get(Conversation, known[1])
        if conversation is None:  # deleted meanwhile (the room ended)
            del _ROOMS[connection]
            return _in_room(connection, dbsession, room_id)
    return conversation, [room_channel(room_id)], known[2]


def _staff_id(role):
    return role.staff.id if role.name == "staff" else None


def _payload(conversation, data):
    return {"conversation": conversation.id, "appointment": conversation.appointment_id, **data}


def send(connection, message):
    role = connection.role

    def write(dbsession, events):
        try:
            conversation, channels, name = _consultation(connection, message, dbsession)
        except Closed:
            raise Refused(
                "forbidden", _("Messages are shown in the consultation room only.")
            ) from None
        try:
            written = service.post(
                connection.request,
                conversation,
                Author(role.name),
                name,
                message.get("text"),
                user=role.staff if role.name == "staff" else None,
            )
        except service.Invalid as exc:
            raise Refused("invalid", exc.args[0]) from None
        data = service.as_dict(connection.request, written)
        for channel in channels:
            events.add(channel, {"type": "chat.message", **_payload(conversation, data)})
        if role.room is None:  # the waiting list's badge of new messages
            entry_changed(connection.request, conversation.appointment_id)

    connection.transaction(write)


def history(connection, message):
    role = connection.role

    def read(dbsession, events):
        try:
            conversation, _channels, _name = _consultation(connection, message, dbsession)
        except Closed:
            return {"type": "chat.history", "open": False, "messages": []}
        reader = role.staff if role.name == "staff" else None
        messages = service.history(connection.request, conversation, reader=reader)
        return {
            "type": "chat.history",
            "open": True,
            **_payload(conversation, {"messages": messages}),
        }

    connection.send(connection.transaction(read))


def includeme(config):
    config.add_realtime_message_type("chat.send", send, roles=ROLES)
    config.add_realtime_message_type("chat.history", history, roles=ROLES)
