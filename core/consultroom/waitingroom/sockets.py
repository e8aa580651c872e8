"""The waiting room's side of the websocket (docs/realtime.md, "Client
(waiting)" and "Staff"): a staff member's live waiting list, and a client
who waits. The roles that own these parts, and the room they lead into, are
the consultation room's (consultroom.room.sockets).
"""

import re

from consultroom.db import utcnow
from consultroom.i18n import _
from consultroom.realtime import user_channel, walk_in_changed
from consultroom.realtime.connection import Refused, encode
from consultroom.realtime.fields import boolean, integer, text
from consultroom.tenancy.models import Organisation
from consultroom.waitingroom import live
from consultroom.waitingroom.hub import hub
from consultroom.waitingroom.models import WalkInSwitch
from consultroom.waitingroom.texts import service_messages_for

MAX_NOTE = 200
LIST_OPTIONS = ("audio_alarm", "force_start")  # the organisation's, as the list sends them


def organisation_of(connection, dbsession):
    return dbsession.get(Organisation, connection.organisation_id)


def in_transaction(connection, action, *args):
    """``action(dbsession, *args, events)`` in the socket's transaction; a
    refused live action becomes the socket's error."""
    try:
        return connection.transaction(lambda db, events: action(db, *args, events))
    except live.LiveError as exc:
        raise Refused(exc.code, exc.message) from None


class StaffList:
    """The live waiting list of one staff socket: the union of its sections
    (kept by this process's hub, which sends the socket each change),
    today's appointments to force start, and the walk-in switch."""

    def __init__(self, connection, staff):
        self.conn = connection
        self.staff = staff
        self.hub = hub(connection.registry)
        self.keys = live.sections_of(staff)
        self.upcoming = []
        self.options = {}
        self.walk_in = False

    def start(self):
        try:
            for key in self.keys:
                self.hub.watch(self.conn, key)
            self.resync()
        except BaseException:
            self.stop()  # a socket that failed to start is stopped by nobody
            raise

    def stop(self):
        for key in self.keys:
            self.hub.unwatch(self.conn, key)

    def resync(self, since=None):
        """Send the full list; ``since``: the bus reconnected then, and the
        sections are loaded again first."""

        def load(dbsession, events):
            organisation = organisation_of(self.conn, dbsession)
            self.upcoming = (
                live.upcoming(dbsession, self.staff, organisation, self.conn.limits.grace_seconds)
                if organisation.options["force_start"]
                else []
            )
            switch = dbsession.get(WalkInSwitch, self.staff.id)
            # Only the options the list reads: kept for as long as the socket is open.
            options = organisation.options
            return {key: options[key] for key in LIST_OPTIONS}, bool(switch and switch.available)

        self.options, self.walk_in = self.conn.transaction(load)
        if since is not None:
            for key in self.keys:
                self.hub.refresh(self.conn, key, since)
        self.send_list()

    def send_list(self):
        # The snapshot and the send do not yield: no delta comes in between.
        entries, entries_text, seq = self.hub.snapshot(self.keys)
        waiting = {e["appointment_id"] for e in entries}
        message = {
            "type": "waiting_list",
            "count": len(entries),
            "seq": seq,
            "upcoming": [u for u in self.upcoming if u["appointment_id"] not in waiting],
            "walk_in_available": self.walk_in,
            "audio_alarm": self.options["audio_alarm"],
            "force_start": self.options["force_start"],
        }
        # The entries as the hub keeps them encoded (the list's bulk).
        self.conn.send_text(encode(message)[:-1] + ',"entries":' + entries_text + "}")

    def on_bus(self, message):
        """Whether ``message`` was the list's (and is handled)."""
        if message.get("type") != "walk_in":
            return False
        self.walk_in = bool(message.get("on"))
        self.conn.send(message)
        return True

    def resync_request(self, message):
        """The page saw a delta's number skipped: the full list again."""
        self.resync()

    def note(self, message):
        note = text(message, "text", MAX_NOTE).strip()
        if not note or "\n" in note or "\r" in note:
            raise Refused(
                "malformed",
                _("A note is one line of at most ${n} characters.", mapping={"n": MAX_NOTE}),
            )
        in_transaction(self.conn, live.note, self.staff, integer(message, "visit"), note)

    def transfer(self, message):
        """Hand a waiting client to ``to``: "user:<id>" or "department:<id>"."""
        kind, _colon, number = text(message, "to", 30).partition(":")
        if kind not in ("user", "department") or not re.fullmatch(r"[0-9]{1,9}", number):
            raise Refused("malformed", _("Choose a colleague or a department."))
        in_transaction(
            self.conn, live.transfer, self.staff, integer(message, "visit"), kind, int(number)
        )

    def walk_in_available(self, message):
        on = boolean(message, "on")

        def switch(dbsession, events):
            row = dbsession.get(WalkInSwitch, self.staff.id)
            if row is None:
                row = WalkInSwitch(
                    user_id=self.staff.id, organisation_id=self.staff.organisation_id
                )
                dbsession.add(row)
            row.available, row.changed_at = on, utcnow()
            events.add(user_channel(self.staff.id), {"type": "walk_in", "on": on})
            events.add(*walk_in_changed(self.staff.organisation_id))  # the open widgets

        self.conn.transaction(switch)


class WaitingClient:
    """A client's socket in the waiting room, by the appointment's link."""

    def __init__(self, connection, appointment_id):
        self.conn = connection
        self.appointment_id = appointment_id
        self.visit_id = None

    def arrive(self, dbsession, appointment, events):
        """The client is here: its visit (created, or taken over from an
        older socket)."""
        visit = live.arrive(dbsession, appointment, self.conn.peer, events)
        self.visit_id = visit.id
        return visit

    def waiting(self, dbsession, visit):
        """The ``waiting`` message: the client's place and the texts shown."""
        messages = service_messages_for(
            dbsession,
            organisation_of(self.conn, dbsession),
            visit.appointment.client,
            visit.department_id,
        )
        return {
            "type": "waiting",
            "visit": visit.id,
            "arrival": visit.arrival,
            "starts_at": visit.appointment.starts_at.isoformat() + "Z",
            "note": visit.note,
            "service_messages": messages,
        }

    def leave(self):
        # Once: each hub takes the entry off its lists when the grace ends.
        self.conn.transaction(
            lambda db, events: live.leave(db, self.visit_id, self.conn.peer, events)
        )
