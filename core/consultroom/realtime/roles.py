"""What each kind of socket may do: staff, a waiting client, a guest.

A role object belongs to one Connection. ``start()`` runs after the welcome,
``handle(message)`` for each message from the socket, ``on_bus(message)``
for each bus message on the connection's channels, ``stop()`` when the
socket closed. Bus messages whose type starts with "_" are instructions for
the server; the others are forwarded to the socket as they are.

Everything WebRTC (SDP, candidates, ICE servers, TURN credentials) is sent
only to a socket admitted into a room (``self.room``), and a signal is
relayed only when sender and receiver are in the same room: the sender's
room is checked here, the receiver's by the receiving process.
"""

import gevent

from consultroom.appointments.models import Appointment
from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.realtime import client_channel, peer_channel, room_channel, user_channel
from consultroom.realtime.connection import CLOSE_KICKED, CLOSE_REPLACED, Refused
from consultroom.realtime.pages import room_settings
from consultroom.realtime.turn import ice_servers
from consultroom.room import service as rooms
from consultroom.room.files import delete_paths
from consultroom.room.models import Room
from consultroom.tenancy.models import Organisation
from consultroom.waitingroom import live
from consultroom.waitingroom.messages import current_messages
from consultroom.waitingroom.models import ENDED, IN_ROOM, Visit, WalkInSwitch

MAX_NOTE = 200
SIGNAL_KEYS = {"sdp", "candidate"}


def _int(message, key):
    value = message.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise Refused("malformed", _("The message has no valid ${field}.", mapping={"field": key}))
    return value


def _str(message, key, max_length=64):
    value = message.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise Refused("malformed", _("The message has no valid ${field}.", mapping={"field": key}))
    return value


def _unknown(message):
    return Refused(
        "unknown_type", _("Unknown message type ${type}.", mapping={"type": message["type"][:40]})
    )


class RoomRole:
    """What every admitted peer shares: joining, signalling, leaving."""

    name = ""

    def __init__(self, connection):
        self.conn = connection
        self.room = None  # the id of the room this socket is admitted into
        self.ended = False

    def organisation(self, dbsession):
        return dbsession.get(Organisation, self.conn.organisation_id)

    def room_state(self, dbsession, room, peers):
        organisation = self.organisation(dbsession)
        settings = self.conn.registry.settings
        return {
            "room": room.id,
            "peer": self.conn.peer,
            "peers": peers,
            "ice_servers": ice_servers(settings, organisation.options, self.conn.peer),
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
        self.room = room.id
        self.conn.subscribe(room_channel(room.id))
        return self.room_state(dbsession, room, peers)

    def leave_room(self):
        if self.room is not None:
            self.conn.unsubscribe(room_channel(self.room))
            self.room = None

    def signal(self, message):
        if self.room is None:
            raise Refused("forbidden", _("You are not in a consultation room."))
        to = _str(message, "to", 32)
        data = message.get("data")
        if not isinstance(data, dict) or len(data) != 1 or set(data) - SIGNAL_KEYS:
            raise Refused("malformed", _("A signal carries one sdp or candidate."))
        self.conn.bus.publish(
            peer_channel(to),
            {"type": "_signal", "room": self.room, "from": self.conn.peer, "data": data},
        )

    def handle(self, message):
        if message["type"] == "signal":
            self.signal(message)
        else:
            raise _unknown(message)

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
            self.resync()
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
                    "follow_up": message.get("follow_up", ""),
                }
            )

    def resync(self):
        pass

    def stop(self):
        if self.room is not None:
            self.conn.transaction(lambda db, events: rooms.leave(db, self.conn.peer, events))


class StaffRole(RoomRole):
    name = "staff"

    def __init__(self, connection, staff):
        super().__init__(connection)
        self.staff = staff
        self.sections = {}  # section key -> (published at, entries)
        self.upcoming = []

    def start(self):
        for key in live.sections_of(self.staff):
            self.conn.subscribe(key)
        self.resync()

    def resync(self):
        grace = self.conn.limits.grace_seconds

        def load(dbsession, events):
            organisation = self.organisation(dbsession)
            for key in live.sections_of(self.staff):
                message = live.section_message(dbsession, organisation, key, grace)
                self.sections[key] = (message["at"], message["entries"])
            self._load_upcoming(dbsession, organisation)
            switch = dbsession.get(WalkInSwitch, self.staff.id)
            return organisation.options, bool(switch and switch.available)

        self.options, self.walk_in = self.conn.transaction(load)
        self.send_list()

    def _load_upcoming(self, dbsession, organisation):
        self.upcoming = (
            live.upcoming(dbsession, self.staff, organisation, self.conn.limits.grace_seconds)
            if organisation.options["force_start"]
            else []
        )

    def send_list(self):
        entries = sorted(
            (e for _at, section in self.sections.values() for e in section),
            key=lambda e: (e["arrived_at"] or "", e["id"]),
        )
        waiting = {e["appointment_id"] for e in entries}
        self.conn.send(
            {
                "type": "waiting_list",
                "entries": entries,
                "count": len(entries),
                "upcoming": [u for u in self.upcoming if u["appointment_id"] not in waiting],
                "walk_in_available": self.walk_in,
                "audio_alarm": self.options["audio_alarm"],
                "force_start": self.options["force_start"],
            }
        )

    def on_bus(self, message):
        kind = message.get("type")
        if kind == "_section":
            self.on_section(message)
        elif kind == "_kick":
            self.conn.close(CLOSE_KICKED)
        elif kind == "walk_in":
            self.walk_in = bool(message.get("on"))
            self.conn.send(message)
        else:
            super().on_bus(message)

    def on_section(self, message):
        key = message.get("key")
        if key not in self.sections or self.sections[key][0] > message.get("at", 0):
            return  # not ours, or older than what we show
        self.sections[key] = (message["at"], message.get("entries") or [])
        if self.options["force_start"]:
            self.conn.transaction(lambda db, events: self._load_upcoming(db, self.organisation(db)))
        self.send_list()

    def handle(self, message):
        handler = {
            "call_in": self.call_in,
            "send_back": self.send_back,
            "note": self.note,
            "force_start": self.force_start,
            "end": self.end,
            "join": self.join,
            "walk_in_available": self.walk_in_available,
        }.get(message["type"])
        if handler is None:
            return super().handle(message)
        handler(message)

    def _live(self, action, *args):
        try:
            return self.conn.transaction(lambda db, events: action(db, *args, events))
        except live.LiveError as exc:
            raise Refused(exc.code, exc.message) from None

    def call_in(self, message):
        visit_id = _int(message, "visit")
        try:
            room = self._live(live.call_in, self.staff, visit_id)
        except live.ClaimLost as exc:
            self.conn.send({"type": "claim_lost", "visit": visit_id, "by": exc.by})
            return
        self.conn.send(
            {"type": "claimed", "visit": visit_id, "room": room.id, "url": f"/room/{room.id}"}
        )

    def force_start(self, message):
        if not self.options["force_start"]:
            raise Refused("forbidden", _("Force start is not enabled for your organisation."))
        room = self._live(live.force_start, self.staff, _int(message, "appointment"))
        self.conn.send({"type": "started", "room": room.id, "url": f"/room/{room.id}"})

    def note(self, message):
        text = _str(message, "text", MAX_NOTE).strip()
        if not text or "\n" in text or "\r" in text:
            raise Refused(
                "malformed",
                _("A note is one line of at most ${n} characters.", mapping={"n": MAX_NOTE}),
            )
        self._live(live.note, self.staff, _int(message, "visit"), text)

    def _own_room(self, message):
        room_id = _str(message, "room", 43)
        if room_id != self.room:
            raise Refused("forbidden", _("Join the room first."))
        return room_id

    def send_back(self, message):
        self._live(live.send_back, self._own_room(message))

    def end(self, message):
        room_id = self._own_room(message)

        def end(dbsession, events):
            room = rooms.open_room_of(dbsession, self.staff.organisation_id, room_id)
            if room is None:
                raise Refused("not_found", _("This consultation has already ended."))
            follow_up = self.organisation(dbsession).options["follow_up_text"]
            return rooms.end(dbsession, room, follow_up, events)

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
        room_id = _str(message, "room", 43)

        def join(dbsession, events):
            room = rooms.open_room_of(dbsession, self.staff.organisation_id, room_id)
            if room is None or not rooms.may_enter(room, self.staff.id):
                raise Refused("not_found", _("This room does not exist or has ended."))
            return self.enter(dbsession, events, room, self.staff.name, self.staff.id)

        if self.room is not None and self.room != room_id:
            self.stop()
            self.leave_room()
        self.conn.send({"type": "room", **self.conn.transaction(join)})

    def walk_in_available(self, message):
        on = message.get("on")
        if not isinstance(on, bool):
            raise Refused(
                "malformed", _("The message has no valid ${field}.", mapping={"field": "on"})
            )

        def switch(dbsession, events):
            row = dbsession.get(WalkInSwitch, self.staff.id)
            if row is None:
                row = WalkInSwitch(
                    user_id=self.staff.id, organisation_id=self.staff.organisation_id
                )
                dbsession.add(row)
            row.available, row.changed_at = on, utcnow()
            events.add(user_channel(self.staff.id), {"type": "walk_in", "on": on})

        self.conn.transaction(switch)


class ClientRole(RoomRole):
    """A client with the appointment's link: waiting, then in the room."""

    name = "client"

    def __init__(self, connection, appointment_id, display_name):
        super().__init__(connection)
        self.appointment_id = appointment_id
        self.display_name = display_name
        self.visit_id = None

    def start(self):
        def arrive(dbsession, events):
            appointment = dbsession.get(Appointment, self.appointment_id)
            visit = live.arrive(dbsession, appointment, self.conn.peer, events)
            self.visit_id = visit.id
            return self._state(dbsession, visit, events)

        # Before arriving, so that being called in right after is not missed.
        self.conn.subscribe(client_channel(self.appointment_id))
        self.conn.send(self.conn.transaction(arrive))

    def _state(self, dbsession, visit, events):
        """What the client sees now: ended, the room, or the waiting room."""
        if visit.state == ENDED:
            self.ended = True
            follow_up = self.organisation(dbsession).options["follow_up_text"]
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
        return self._waiting(dbsession, visit)

    def _peers(self, dbsession, room):
        return [
            rooms.peer_info(m)
            for m in rooms.present_members(dbsession, room.id)
            if m.peer != self.conn.peer
        ]

    def _waiting(self, dbsession, visit):
        appointment = visit.appointment
        organisation = self.organisation(dbsession)
        messages = current_messages(dbsession, organisation, visit.department_id)
        return {
            "type": "waiting",
            "visit": visit.id,
            "arrival": visit.arrival,
            "starts_at": appointment.starts_at.isoformat() + "Z",
            "note": visit.note,
            "service_messages": [m.text for m in messages],
        }

    def refresh(self):
        def state(dbsession, events):
            return self._state(dbsession, dbsession.get(Visit, self.visit_id), events)

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
        grace = self.conn.limits.grace_seconds
        self.conn.transaction(
            lambda db, events: live.leave(db, self.visit_id, self.conn.peer, events)
        )
        # Take the client off the lists once the grace period has passed.
        gevent.spawn_later(grace + 0.5, self._republish_section)

    def _republish_section(self):
        def touch(dbsession, events):
            visit = dbsession.get(Visit, self.visit_id)
            if visit is not None:
                events.touch(visit)

        self.conn.transaction(touch)


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
