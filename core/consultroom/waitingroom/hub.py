"""This process's live waiting lists, kept up to date by deltas.

One hub per process holds the entries of every section (bus channel
``user:``, ``dept:``, ``unassigned:``; see ``live``) that a staff socket of
this process watches: loaded once from the database when the first socket
watches it, then changed by the bus messages ``live.touch`` publishes (one
visit each). Each change becomes one ``waiting_delta`` (docs/realtime.md,
"Staff") with the section's next sequence number, encoded once and written as
the same text to every watching socket: a change costs one encoding and a
write per socket, whatever the number waiting.

A disconnected client's entry leaves the list when its grace period ends:
each hub removes it on its own timer, so a leave is published once.

The sequence numbers are this process's: a socket's full list carries the
number of each of its sections, and a page that sees a number skipped asks
for the full list again (``resync``). After the bus reconnects (messages may
have been lost), the sections are loaded again before the sockets' lists are
sent.
"""

import time

import gevent
from gevent.event import Event

from consultroom.realtime import message_bus
from consultroom.realtime.connection import encode
from consultroom.waitingroom import live

KEY = "waiting_hub"


class Section:
    def __init__(self, key):
        self.key = key
        self.seq = 0
        self.entries = {}  # visit id -> entry
        self.texts = {}  # visit id -> the entry encoded, for every list and delta
        self.expiry = {}  # visit id -> the greenlet that removes it when its grace ends
        self.watchers = set()
        self.ready = Event()  # loaded
        self.pending = None  # bus messages that came in while it loaded
        self.loaded_at = 0.0  # when its last load started (time.monotonic())
        self.callback = None


class Hub:
    def __init__(self, registry):
        self.registry = registry
        self.sections = {}

    # -- watchers -----------------------------------------------------------

    def watch(self, connection, key):
        """Tell ``connection`` of the changes to section ``key`` from now on
        (loading the section first if no socket here watches it yet)."""
        section = self.sections.get(key)
        if section is None:
            section = self.sections[key] = Section(key)
            section.callback = lambda message: self._receive(section, message)
            message_bus(self.registry).subscribe(key, section.callback)
            self._load(connection, section)
        else:
            section.ready.wait()
        section.watchers.add(connection)

    def unwatch(self, connection, key):
        section = self.sections.get(key)
        if section is None:
            return
        section.watchers.discard(connection)
        if not section.watchers and section.ready.is_set():
            self._drop(section)

    def _drop(self, section):
        if self.sections.get(section.key) is section:
            del self.sections[section.key]
        message_bus(self.registry).unsubscribe(section.key, section.callback)
        gevent.killall(list(section.expiry.values()), block=False)
        section.expiry.clear()

    def snapshot(self, keys):
        """What a socket's full list shows of sections ``keys``: their
        entries by arrival (as dicts, and as one encoded JSON array made of
        the entries' cached texts), and each section's sequence number."""
        sections = [self.sections[key] for key in keys if key in self.sections]
        entries = sorted(
            ((entry, section) for section in sections for entry in section.entries.values()),
            key=lambda pair: (pair[0]["arrived_at"] or "", pair[0]["id"]),
        )
        text = "[" + ",".join(section.texts[entry["id"]] for entry, section in entries) + "]"
        seq = {section.key: section.seq for section in sections}
        return [entry for entry, _section in entries], text, seq

    def refresh(self, connection, key, since):
        """Load section ``key`` again unless that started after ``since`` (a
        bus reconnect: changes may have been lost)."""
        section = self.sections.get(key)
        if section is None:
            return
        if not section.ready.is_set():
            section.ready.wait()
        elif section.loaded_at < since:
            section.ready.clear()
            self._load(connection, section)

    # -- loading ------------------------------------------------------------

    def _load(self, connection, section):
        grace = connection.limits.grace_seconds
        organisation_id, request = connection.organisation_id, connection.request
        section.pending = []
        section.loaded_at = time.monotonic()
        try:
            loaded = connection.transaction(
                lambda dbsession, events: live.entries(
                    dbsession, organisation_id, section.key, grace, request=request
                )
            )
        except BaseException:
            section.pending = None
            if not section.watchers:
                self._drop(section)
            section.ready.set()
            raise
        pending, section.pending = section.pending, None
        gevent.killall(list(section.expiry.values()), block=False)
        section.expiry.clear()
        section.entries, section.texts = {}, {}
        for entry, gone_in in loaded:
            self._keep(section, entry)
            self._expire_later(section, entry, gone_in)
        for message in pending:
            self._apply(section, message)
        section.ready.set()

    # -- changes ------------------------------------------------------------

    def _receive(self, section, message):
        # The bus's thread (a greenlet): only memory work and queued writes.
        if section.pending is not None:
            section.pending.append(message)
        else:
            self._apply(section, message)

    def _apply(self, section, message):
        kind = message.get("type")
        if kind == "_entry":
            entry = message["entry"]
            op = "change" if entry["id"] in section.entries else "add"
            self._keep(section, entry)
            self._expire_later(section, entry, message.get("gone_in"))
            self._tell(section, {"op": op}, ',"entry":' + section.texts[entry["id"]])
        elif kind == "_gone":
            self._remove(section, message.get("id"), bool(message.get("left")))

    def _remove(self, section, visit_id, left):
        entry = section.entries.pop(visit_id, None)
        if entry is None:
            return
        del section.texts[visit_id]
        timer = section.expiry.pop(visit_id, None)
        if timer is not None and timer is not gevent.getcurrent():
            timer.kill(block=False)
        self._tell(
            section,
            {
                "op": "remove",
                "id": visit_id,
                "appointment_id": entry["appointment_id"],
                "left": left,
            },
        )

    def _expire_later(self, section, entry, gone_in):
        timer = section.expiry.pop(entry["id"], None)
        if timer is not None:
            timer.kill(block=False)
        if gone_in is not None:
            section.expiry[entry["id"]] = gevent.spawn_later(
                max(gone_in, 0), self._remove, section, entry["id"], True
            )

    def _keep(self, section, entry):
        section.entries[entry["id"]] = entry
        section.texts[entry["id"]] = encode(entry)

    def _tell(self, section, change, entry_text=""):
        """Send every watcher the section's next delta: ``change`` and the
        entry's cached text (``,"entry":{...}``), encoded once."""
        section.seq += 1
        message = {"type": "waiting_delta", "section": section.key, "seq": section.seq, **change}
        text = encode(message)[:-1] + entry_text + "}"
        for connection in list(section.watchers):
            connection.send_text(text)


def hub(registry):
    return registry[KEY]


def includeme(config):
    config.registry[KEY] = Hub(config.registry)
