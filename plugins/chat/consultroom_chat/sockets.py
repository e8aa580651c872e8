"""Chat on the page's socket, for one consultation at a time.

``chat.send`` (``text``) writes a message and ``chat.history`` asks for the
messages so far. Which consultation: the room the socket is in (staff,
client or guest alike); else, where the organisation shows messages in the
waiting room, a waiting client's own appointment, or for staff the
appointment they name (``appointment``: one they may see). A message goes
to everyone in the room, or to the waiting client and the appointment's
practitioner; the history only to who asked.

A message is relayed before it is stored (optimistic relay with
retraction): the relay must not wait on a commit, which costs many times
what the relay itself does. Everything that can refuse a message is
checked first (its text, whether messages are shown where the socket is,
the appointment a staff member names), then ``chat.message`` (with the
message's ``key``) goes to its audience at once, and only then is the
message encrypted and written, in one transaction of its own. Should that
fail, the same audience hears ``chat.retract`` (``key``) and every page
removes the message, and the sender gets the error ``not_sent`` with the
``key`` and the ``text``, which its page puts back to send again: a page
never keeps showing a message that was not stored, and nothing is half
written. What follows from a stored message (the waiting list's badge of
new messages) is published only after the commit.

In a room, what a socket learnt of its room (the conversation, its name
there) is kept while it stays, so that a message needs no database before
it is relayed, nor any read to be written (one INSERT from the ids kept); a
conversation deleted meanwhile (the room ended, the client was erased)
fails the write, and the message is retracted. Before the call-in the
appointment (and a staff member's right to it) is looked up in a short
transaction before each message is relayed. As before, what is audited is
a staff member's read of the history (``service.history``); a message
heard live is not a read of the stored ones.

The core has already checked the frame's size, the flood throttle and that
the organisation enabled chat (a ``chat.*`` frame elsewhere is an unknown
type).
"""

import logging
import weakref
from dataclasses import dataclass

import gevent

from consultroom.appointments.access import visible_appointments
from consultroom.appointments.models import Appointment, Status
from consultroom.realtime import client_channel, room_channel, user_channel
from consultroom.realtime.connection import Refused
from consultroom.realtime.fields import integer
from consultroom.room.models import Room, RoomMember
from consultroom.waitingroom.live import entry_changed
from consultroom_chat import service
from consultroom_chat.i18n import _
from consultroom_chat.models import Author
from consultroom_chat.settings import settings_of

ROLES = ("staff", "client", "guest")
NOT_SENT = _("Your message could not be sent. It is still in the box: please send it again.")
# connection -> (room id, its Target), while the socket stays in that room
_ROOMS = weakref.WeakKeyDictionary()

log = logging.getLogger(__name__)


class Closed(Exception):
    """Messages are not shown where this socket is (a waiting room, with
    the organisation's setting off)."""


@dataclass(frozen=True)
class Target:
    """Where a socket's message goes: its conversation (and appointment),
    the bus channels that hear of it, the author's name there and user id
    (staff); ``waiting``: before the call-in (the waiting list shows a
    badge). Ids only: writing a message needs no row read first."""

    conversation_id: int
    appointment_id: int | None
    channels: tuple
    name: str
    user_id: int | None
    waiting: bool

    def payload(self, data):
        return {"conversation": self.conversation_id, "appointment": self.appointment_id, **data}


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
    """(conversation, Target of this socket's messages); the conversation
    is made when missing."""
    role, request = connection.role, connection.request
    if role.room is not None:
        return _in_room(connection, dbsession, role.room)
    if not settings_of(request)["in_waiting_room"]:
        raise Closed()
    appointment = _waiting_appointment(connection, message, dbsession)
    channels = [client_channel(appointment.id)]
    channels += [user_channel(i) for i in {appointment.practitioner_id, _staff_id(role)} if i]
    name = role.staff.name if role.name == "staff" else role.display_name
    conversation = service.consultation_of(request, appointment=appointment)
    target = Target(conversation.id, appointment.id, tuple(channels), name, _staff_id(role), True)
    return conversation, target


def _in_room(connection, dbsession, room_id):
    """The room's conversation, and the Target kept for the socket's next
    messages while it stays in the room."""
    room = dbsession.get(Room, room_id)
    member = dbsession.get(RoomMember, connection.peer)
    conversation = service.consultation_of(connection.request, room=room)
    name = member.name if member is not None else ""
    channels = (room_channel(room_id),)
    staff_id = _staff_id(connection.role)
    target = Target(conversation.id, conversation.appointment_id, channels, name, staff_id, False)
    _ROOMS[connection] = (room_id, target)
    return conversation, target


def _staff_id(role):
    return role.staff.id if role.name == "staff" else None


def _target(connection, message):
    """Where this socket's message goes: in a room it stays in, what it
    learnt there (no database); else looked up in a short transaction,
    which refuses what may not be written."""
    known = _ROOMS.get(connection)
    if known is not None and known[0] == connection.role.room:
        return known[1]

    def look_up(dbsession, events):
        try:
            return _consultation(connection, message, dbsession)[1]
        except Closed:
            raise Refused(
                "forbidden", _("Messages are shown in the consultation room only.")
            ) from None

    return connection.transaction(look_up)


def _publish(connection, target, data):
    message = target.payload(data)
    for channel in target.channels:
        connection.bus.publish(channel, message)


def _store(connection, target, draft):
    """Write the relayed ``draft`` in one transaction of its own: in the
    room its INSERT alone; before the call-in with the waiting list's
    badge, published after the commit."""
    ids = (connection.organisation_id, target.conversation_id, draft, target.user_id)
    if not target.waiting:
        service.store_in_room(connection.registry, *ids)
        return
    request = connection.request

    def write(dbsession, events):
        service.store_in_consultation(request, *ids)
        entry_changed(request, target.appointment_id)

    connection.transaction(write)


def send(connection, message):
    try:
        text = service.clean_text(message.get("text"))
    except service.Invalid as exc:
        raise Refused("invalid", exc.args[0]) from None
    target = _target(connection, message)
    draft = service.draft(Author(connection.role.name), target.name, text)
    _publish(connection, target, {"type": "chat.message", **draft.as_dict()})
    # Let this process's sockets in the audience write it out before the
    # write's work begins (their greenlets are ready; this one would
    # otherwise keep the process until its first database round trip).
    gevent.sleep(0)
    try:
        _store(connection, target, draft)
    except Exception:
        # Its conversation was deleted meanwhile (the room ended, the
        # client was erased), or the database failed.
        log.exception("chat: a relayed message could not be stored; retracted")
        _ROOMS.pop(connection, None)  # looked up afresh for the next one
        _retract(connection, target, draft)


def _retract(connection, target, draft):
    """Every page removes the message; the sender's gets its text back."""
    _publish(connection, target, {"type": "chat.retract", "key": draft.key})
    connection.send(
        {
            "type": "error",
            "code": "not_sent",
            "message": connection.request.localizer.translate(NOT_SENT),
            "key": draft.key,
            "text": draft.text,
        }
    )


def history(connection, message):
    role = connection.role

    def read(dbsession, events):
        try:
            conversation, target = _consultation(connection, message, dbsession)
        except Closed:
            return {"type": "chat.history", "open": False, "messages": []}
        reader = role.staff if role.name == "staff" else None
        messages = service.history(connection.request, conversation, reader=reader)
        return {
            "type": "chat.history",
            "open": True,
            **target.payload({"messages": messages}),
        }

    connection.send(connection.transaction(read))


def includeme(config):
    config.add_realtime_message_type("chat.send", send, roles=ROLES)
    config.add_realtime_message_type("chat.history", history, roles=ROLES)
