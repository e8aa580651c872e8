"""The roles of the websocket (docs/realtime.md): staff, a client with the
appointment's link, a guest with a room invitation; each registered at the
realtime door with its authentication and the message types it may send.

A role object belongs to one Connection. ``start()`` runs after the welcome,
``on_bus(message)`` for each bus message on the connection's channels,
``stop()`` when the socket closed; each socket message goes to its
registered handler. Bus messages whose type starts with "_" are instructions
for the server; the others are forwarded to the socket as they are. The
waiting-room parts (a staff member's live list, a waiting client) are the
waiting room's (consultroom.waitingroom.sockets); this module adds the room.

Everything WebRTC (SDP, candidates, ICE servers, TURN credentials) is sent
only to a socket admitted into a room (``self.room``), and a signal is
relayed only when sender and receiver are in the same room: the sender's
room is checked here, the receiver's by the receiving process.
"""

from sqlalchemy import select

from consultroom.accounts.models import STAFF_ROLES, User
from consultroom.appointments import admission
from consultroom.appointments.models import Appointment
from consultroom.appointments.service import link_state
from consultroom.db import unless_committed
from consultroom.i18n import _
from consultroom.realtime import client_channel, peer_channel, room_channel, user_channel
from consultroom.realtime.connection import CLOSE_KICKED, CLOSE_REPLACED, Refused
from consultroom.realtime.fields import integer, text
from consultroom.realtime.pages import room_settings
from consultroom.realtime.tokens import by_token
from consultroom.realtime.turn import ice_servers, ice_transport_policy
from consultroom.room import problems
from consultroom.room import service as rooms
from consultroom.room.files import delete_paths
from consultroom.room.models import Room
from consultroom.secretbox import secret_box
from consultroom.waitingroom import live
from consultroom.waitingroom.models import ENDED, IN_ROOM, Visit
from consultroom.waitingroom.sockets import (
    StaffList,
    WaitingClient,
    in_transaction,
    organisation_of,
)
from consultroom.waitingroom.texts import follow_up_for

SIGNAL_KEYS = {"sdp", "candidate"}


def with_request(connection, action, *args):
    """``action(request, *args, events)`` in the socket's transaction, as
    ``in_transaction`` does with the session: for the room's service
    functions that call hooks, which get the socket's request."""
    return in_transaction(connection, lambda _db, *rest: action(connection.request, *rest), *args)


class RoomRole:
    """What every admitted peer shares: joining, signalling, leaving."""

    name = ""

    def __init__(self, connection):
        self.conn = connection
        self.room = None  # the id of the room this socket is admitted into
        self.ended = False
        self.reported = set()  # the rooms whose connection problem it told

    def room_state(self, dbsession, room, peers):
        organisation = organisation_of(self.conn, dbsession)
        settings = self.conn.registry.settings
        return {
            "room": room.id,
            "peer": self.conn.peer,
            "peers": peers,
            "ice_servers": ice_servers(
                settings,
                organisation.options_with_secrets(secret_box(self.conn.registry)),
                self.conn.peer,
            ),
            "ice_transport_policy": ice_transport_policy(settings),
            "settings": room_settings(organisation),
            "started_at": room.started_at.isoformat() + "Z",
            "files": [rooms.file_info(f) for f in rooms.files_of(dbsession, room.id)],
        }

    def enter(self, dbsession, events, room, display_name, user_id=None):
        """Admit this socket into ``room``; the room state to send."""
        try:
            peers = rooms.join(
                dbsession, room, self.conn.peer, self.name, display_name, user_id, events
            )
        except rooms.RoomFull:
            raise Refused("room_full", _("This room is full.")) from None
        if self.room is None:
            # In the room once the join commits: subscribed now, so that
            # nothing said in the room after the commit is missed, and out
            # again if the transaction does not commit.
            unless_committed(self.conn.request, self.leave_room)
        self.room = room.id
        self.conn.subscribe(room_channel(room.id))
        return self.room_state(dbsession, room, peers)

    def leave_room(self):
        if self.room is not None:
            self.conn.unsubscribe(room_channel(self.room))
            self.room = None

    def problem(self, message):
        """This browser's media connection in the room failed for good (the
        room's script restarted ICE first): counted for the usage report,
        once per socket and room."""
        if self.room is None:
            raise Refused("forbidden", _("You are not in a consultation room."))
        if message.get("kind") != "ice_failed":
            raise Refused("malformed", _("This is not a connection problem we know."))
        if self.room in self.reported:
            return
        self.reported.add(self.room)
        staff = getattr(self, "staff", None)

        def store(dbsession, events):
            room = dbsession.get(Room, self.room)
            problems.record(
                dbsession,
                room.organisation_id,
                problems.ROOM,
                self.name,
                room.appointment_id,
                staff.id if staff else None,
            )

        self.conn.transaction(store)

    def signal(self, message):
        if self.room is None:
            raise Refused("forbidden", _("You are not in a consultation room."))
        to = text(message, "to", 32)
        data = message.get("data")
        if not isinstance(data, dict) or len(data) != 1 or set(data) - SIGNAL_KEYS:
            raise Refused("malformed", _("A signal carries one sdp or candidate."))
        self.conn.bus.publish(
            peer_channel(to),
            {"type": "_signal", "room": self.room, "from": self.conn.peer, "data": data},
        )

    def on_bus(self, message):
        kind = message.get("type")
        if kind == "_signal":
            # The receiving side of the room check.
            if self.room is not None and message.get("room") == self.room:
                self.conn.send(
                    {"type": "signal", "from": message.get("from"), "data": message.get("data")}
                )
        elif kind in ("peer_joined", "peer_left"):
            if message.get("peer") != self.conn.peer:
                self.conn.send(message)
        elif kind == "_ended":
            self.on_ended(message)
        elif kind == "_resync":
            self.resync(message.get("at"))
        elif kind and not kind.startswith("_"):
            self.conn.send(message)

    def on_ended(self, message):
        self.leave_room()
        if not self.ended:
            self.ended = True
            self.conn.send(
                {
                    "type": "ended",
                    "room": message.get("room"),
                    "follow_up": self.follow_up(message),
                }
            )

    def follow_up(self, message):
        """The follow-up message this peer reads: the organisation's, as the
        end sent it, unless the peer has a language of their own."""
        return message.get("follow_up", "")

    def resync(self, since=None):
        """The bus reconnected at ``since``: messages may have been lost."""

    def stop(self):
        if self.room is not None:
            self.conn.transaction(lambda db, events: rooms.leave(db, self.conn.peer, events))


class StaffRole(RoomRole):
    name = "staff"

    def __init__(self, connection, staff):
        super().__init__(connection)
        self.staff = staff
        self.list = StaffList(connection, staff)

    def start(self):
        # The user's channel: kicks, the walk-in switch and what is published
        # for the user's sockets (its waiting-list section goes to the hub).
        self.conn.subscribe(user_channel(self.staff.id))
        self.list.start()

    def resync(self, since=None):
        self.list.resync(since)

    def stop(self):
        self.list.stop()
        super().stop()

    def on_bus(self, message):
        if message.get("type") == "_kick":
            self.conn.close(CLOSE_KICKED)
        elif not self.list.on_bus(message):
            super().on_bus(message)

    def call_in(self, message):
        visit_id = integer(message, "visit")
        try:
            room = with_request(self.conn, rooms.call_in, self.staff, visit_id)
        except live.ClaimLost as exc:
            self.conn.send({"type": "claim_lost", "visit": visit_id, "by": exc.by})
            return
        self.conn.send(
            {"type": "claimed", "visit": visit_id, "room": room.id, "url": f"/room/{room.id}"}
        )

    def force_start(self, message):
        if not self.list.options["force_start"]:
            raise Refused("forbidden", _("Force start is not enabled for your organisation."))
        room = with_request(
            self.conn, rooms.force_start, self.staff, integer(message, "appointment")
        )
        self.conn.send({"type": "started", "room": room.id, "url": f"/room/{room.id}"})

    def _own_room(self, message):
        room_id = text(message, "room", 43)
        if room_id != self.room:
            raise Refused("forbidden", _("Join the room first."))
        return room_id

    def send_back(self, message):
        in_transaction(self.conn, live.send_back, self._own_room(message))

    def end(self, message):
        room_id = self._own_room(message)

        def end(dbsession, events):
            room = rooms.open_room_of(dbsession, self.staff.organisation_id, room_id)
            if room is None:
                raise Refused("not_found", _("This consultation has already ended."))
            follow_up = organisation_of(self.conn, dbsession).options["follow_up_text"]
            staff = dbsession.get(User, self.staff.id)
            return rooms.end(self.conn.request, room, follow_up, events, actor=staff)

        delete_paths(self.conn.transaction(end))

    def on_ended(self, message):
        # Staff go on to the next consultation: no "ended once" flag.
        self.leave_room()
        self.conn.send(
            {
                "type": "ended",
                "room": message.get("room"),
                "follow_up": message.get("follow_up", ""),
                "url": "/waiting-room",
            }
        )

    def join(self, message):
        room_id = text(message, "room", 43)

        def join(dbsession, events):
            room = rooms.open_room_of(dbsession, self.staff.organisation_id, room_id)
            if room is None or not rooms.may_enter(room, self.staff.id):
                raise Refused("not_found", _("This room does not exist or has ended."))
            return self.enter(dbsession, events, room, self.staff.name, self.staff.id)

        if self.room is not None and self.room != room_id:
            self.stop()
            self.leave_room()
        self.conn.send({"type": "room", **self.conn.transaction(join)})


class ClientRole(RoomRole):
    """A client with the appointment's link: waiting, then in the room."""

    name = "client"

    def __init__(self, connection, appointment_id, display_name):
        super().__init__(connection)
        self.appointment_id = appointment_id
        self.display_name = display_name
        self.waiting = WaitingClient(connection, appointment_id)

    def start(self):
        def arrive(dbsession, events):
            appointment = dbsession.get(Appointment, self.appointment_id)
            visit = self.waiting.arrive(dbsession, appointment, events)
            return self._state(dbsession, visit, events)

        # Before arriving, so that being called in right after is not missed.
        self.conn.subscribe(client_channel(self.appointment_id))
        self.conn.send(self.conn.transaction(arrive))

    def follow_up(self, message):
        # In the client's language, for their appointment's department.
        def read(dbsession, _events):
            appointment = dbsession.get(Appointment, self.appointment_id)
            organisation = organisation_of(self.conn, dbsession)
            return follow_up_for(dbsession, organisation, appointment, appointment.client)

        return self.conn.transaction(read)

    def _state(self, dbsession, visit, events):
        """What the client sees now: ended, the room, or the waiting room."""
        if visit.state == ENDED:
            self.ended = True
            appointment = dbsession.get(Appointment, self.appointment_id)
            organisation = organisation_of(self.conn, dbsession)
            follow_up = follow_up_for(dbsession, organisation, appointment, appointment.client)
            return {"type": "ended", "follow_up": follow_up}
        if visit.state == IN_ROOM:
            room = dbsession.get(Room, visit.room_id)
            if room is not None and room.ended_at is None:
                if self.room == room.id:
                    return {
                        "type": "admitted",
                        **self.room_state(dbsession, room, self._peers(dbsession, room)),
                    }
                return {
                    "type": "admitted",
                    **self.enter(dbsession, events, room, self.display_name),
                }
        return self.waiting.waiting(dbsession, visit)

    def _peers(self, dbsession, room):
        return [
            rooms.peer_info(m)
            for m in rooms.present_members(dbsession, room.id)
            if m.peer != self.conn.peer
        ]

    def refresh(self):
        def state(dbsession, events):
            return self._state(dbsession, dbsession.get(Visit, self.waiting.visit_id), events)

        self.conn.send(self.conn.transaction(state))

    def on_bus(self, message):
        kind = message.get("type")
        if kind in ("_admit", "_resync"):
            self.refresh()
        elif kind == "_sent_back":
            if self.room is not None:
                super().stop()
                self.leave_room()
            self.conn.send({"type": "sent_back"})
            self.refresh()
        elif kind == "_replaced":
            if message.get("peer") != self.conn.peer:
                self.conn.close(CLOSE_REPLACED)
        else:
            super().on_bus(message)

    def stop(self):
        super().stop()
        self.waiting.leave()


class GuestRole(RoomRole):
    """An extra participant invited into one room."""

    name = "guest"

    def __init__(self, connection, invite_id, room_id, display_name):
        super().__init__(connection)
        self.invite_id = invite_id
        self.room_id = room_id
        self.display_name = display_name

    def start(self):
        def join(dbsession, events):
            room = rooms.open_room_of(dbsession, self.conn.organisation_id, self.room_id)
            if room is None:
                raise Refused("not_found", _("This consultation has ended."))
            return self.enter(dbsession, events, room, self.display_name)

        self.conn.send({"type": "room", **self.conn.transaction(join)})


# -- hello: who the socket is ---------------------------------------------------------

CLIENT_REFUSED = _("This link does not open the waiting room now.")
GUEST_REFUSED = _("This invitation is no longer valid.")


def staff(connection, hello):
    with connection.request.tm:
        user = connection.request.user
        if user is None or user.role not in STAFF_ROLES:
            raise Refused("unauthorized", _("Log in again."))
        return StaffRole(connection, live.Staff.of(user))


def _appointment(connection, token):
    return connection.request.dbsession.scalar(
        select(Appointment).where(
            Appointment.organisation_id == connection.organisation_id, Appointment.token == token
        )
    )


def _client(connection, appointment):
    if link_state(appointment, connection.request.organisation) != "open":
        raise Refused("unauthorized", CLIENT_REFUSED)
    # On the server, not only in the page: the client never arrives (no
    # visit, nobody's waiting list) while a step is unfinished.
    pending = admission.unfinished(connection.request, appointment)
    if pending:
        raise Refused(admission.UNFINISHED, admission.client_refusal(pending))
    return ClientRole(connection, appointment.id, live.client_name(appointment))


def client(connection, hello):
    return by_token(connection, hello, _appointment, _client, CLIENT_REFUSED)


def _invite(connection, token):
    return rooms.invite_by_token(connection.request.dbsession, connection.organisation_id, token)


def _guest(connection, invite):
    return GuestRole(connection, invite.id, invite.room_id, invite.name)


def guest(connection, hello):
    return by_token(connection, hello, _invite, _guest, GUEST_REFUSED)


# -- what each role may send ----------------------------------------------------------


def _to_role(method):
    """A door handler calling ``method`` of the connection's role."""
    return lambda connection, message: method(connection.role, message)


def _to_list(method):
    """A door handler calling ``method`` of a staff socket's waiting list."""
    return lambda connection, message: method(connection.role.list, message)


STAFF_MESSAGES = {
    "call_in": _to_role(StaffRole.call_in),
    "send_back": _to_role(StaffRole.send_back),
    "note": _to_list(StaffList.note),
    "transfer": _to_list(StaffList.transfer),
    "force_start": _to_role(StaffRole.force_start),
    "end": _to_role(StaffRole.end),
    "join": _to_role(StaffRole.join),
    "walk_in_available": _to_list(StaffList.walk_in_available),
    "resync": _to_list(StaffList.resync_request),
}


def includeme(config):
    config.add_realtime_role("staff", staff)
    config.add_realtime_role("client", client)
    config.add_realtime_role("guest", guest)
    config.add_realtime_message_type("signal", _to_role(RoomRole.signal))
    config.add_realtime_message_type("problem", _to_role(RoomRole.problem))
    for name, handler in STAFF_MESSAGES.items():
        config.add_realtime_message_type(name, handler, roles=("staff",))
