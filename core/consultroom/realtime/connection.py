"""One websocket: reading with limits, writing, heartbeat, flood control,
bus subscriptions and short transactions.

Two greenlets per socket: the reader (socket → inbox, with the size limit
and the flood throttle) and the handler (the view's own greenlet), which
takes socket messages, bus messages and the heartbeat's requests from one
inbox in order, so that a role's state never sees two messages at once, and
is the only one that writes to the socket: what another greenlet sends or
closes goes through the inbox.

Thousands of sockets stay open per process, most of them idle: what one
holds is kept small. The reader is a raw greenlet (no spawning stack
recorded), the inbox a list with one waiter, the read buffer small
(``frames.shrink_read_buffer``), and the database session is held only
while the socket is busy (consultroom.realtime.dbsession).

No socket has a timer of its own: one heartbeat greenlet per process
(``Heartbeat``) pings the sockets, closes idle ones and refuses those that
said no hello in time. An idle socket costs nothing until then.

Which roles and message types exist is not known here: features register
them at the door (consultroom.realtime.door); the connection applies the
limits, answers ping, and hands each message to its registered handler.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass

import gevent
import transaction
from gevent.hub import Waiter, get_hub
from geventwebsocket.exceptions import WebSocketError
from sqlalchemy.exc import OperationalError
from transaction.interfaces import NoTransaction

from consultroom.db import request_session, utcnow
from consultroom.i18n import _
from consultroom.realtime import frames, message_bus, peer_channel
from consultroom.realtime.dbsession import SessionPerBurst
from consultroom.realtime.door import door
from consultroom.realtime.events import Events
from consultroom.realtime.throttle import TokenBucket
from consultroom.web.inputs import parse_json

log = logging.getLogger(__name__)

HELLO_SECONDS = 10
# Throttled messages, less one for each admitted, before the socket is closed:
# a client sending more than twice the rate gets there however fast this
# process reads (counting only drops in a row, a process slower than one frame
# per token's time never closed a flooding socket).
MAX_DROPPED = 200
MAX_INBOX = 500  # bus messages queued for a socket that does not keep up
LINGER_SECONDS = 2  # after the server's close frame, for the client to stop sending

CLOSE_UNAUTHORISED = 4401
CLOSE_KICKED = 4403
CLOSE_REPLACED = 4409
CLOSE_FLOOD = 4429
CLOSE_IDLE = 1001


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 65536
    hard_limit: int = 16 * 1024 * 1024
    ping_seconds: float = 20
    idle_seconds: float = 60
    rate: float = 20
    burst: int = 40
    grace_seconds: float = 30
    presence_seconds: float = 30

    @classmethod
    def from_settings(cls, settings):
        def number(name, default, kind=float):
            return kind(settings.get(f"realtime.{name}", default))

        return cls(
            max_bytes=number("max_message_bytes", cls.max_bytes, int),
            ping_seconds=number("ping_seconds", cls.ping_seconds),
            idle_seconds=number("idle_seconds", cls.idle_seconds),
            rate=number("rate", cls.rate),
            burst=number("burst", cls.burst, int),
            grace_seconds=number("grace_seconds", cls.grace_seconds),
            presence_seconds=number("presence_seconds", cls.presence_seconds),
        )


class Refused(Exception):
    """A message the socket may not send now: answered with an error."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message


# What the inbox carries besides socket and bus messages: requests of other
# greenlets to the handler, the only one that writes.
SEND, CLOSE, PING, NO_HELLO, GONE = "send", "close", "ping", "no_hello", "gone"
PING_TEXT = '{"type":"ping"}'


class Inbox:
    """A FIFO queue read by one greenlet (the handler), written by any of
    the process's greenlets; what gevent's queues do, in a list and at most
    one waiter instead of three deques (about 2 KiB an idle socket)."""

    __slots__ = ("items", "waiter")

    def __init__(self):
        self.items = []  # short: the handler empties it as fast as it comes
        self.waiter = None  # the handler, while it waits for an item

    def put(self, item):
        self.items.append(item)
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            # From the hub, as gevent's queues do: the putter keeps running.
            get_hub().loop.run_callback(waiter.switch, None)

    def get(self):
        while not self.items:
            self.waiter = Waiter()
            self.waiter.get()
        return self.items.pop(0)

    def empty(self):
        return not self.items

    def qsize(self):
        return len(self.items)


class Connection:
    def __init__(self, ws, request, limits):
        self.ws = ws
        self.request = request
        self.registry = request.registry
        self.bus = message_bus(request.registry)
        self.limits = limits
        self.organisation_id = request.organisation.id
        self.peer = secrets.token_hex(12)
        self.role = None  # the role object, once the hello was accepted
        self.inbox = Inbox()
        self.handler = None  # the greenlet that serves the socket and writes to it
        self.closing = False  # a close was asked for: nothing more is sent
        self.finished = False  # the socket is closed
        self.lingering = None  # the raw socket once the server closed: the client may still send
        self.channels = set()
        self.opened = self.last_received = self.last_ping = time.monotonic()
        self.heard = False  # any message came (the hello's deadline is met)
        self.bucket = TokenBucket(limits.rate, limits.burst)
        self.dropped = 0
        self.last_flood_error = 0.0

    # -- output -------------------------------------------------------------

    def send(self, message):
        self.send_text(encode(message))

    def send_text(self, text):
        """Send a message encoded by ``encode``: a message for many sockets
        is encoded once and the same text written to each."""
        if self.closing:
            return
        if gevent.getcurrent() is self.handler:
            self._write(text)
        else:
            self.inbox.put((SEND, text))

    def error(self, code, message):
        self.send(
            {"type": "error", "code": code, "message": self.request.localizer.translate(message)}
        )

    def close(self, code=1000, reason=""):
        if self.closing:
            return
        self.closing = True
        if gevent.getcurrent() is self.handler:
            self._close_now(code, reason)
        else:
            self.inbox.put((CLOSE, (code, reason)))

    def _write(self, text):
        try:
            self.ws.send(text)
        except (WebSocketError, OSError) as exc:
            # The client went away (a page change, a closed tab, a lost
            # network): gevent-websocket says "Socket is dead". A normal
            # close, not an error: one line, no traceback.
            log.debug("realtime: client went away (%s, peer %s)", exc, self.peer)
            self.closing = self.finished = True

    def _close_now(self, code, reason):
        socket = self.ws.handler.socket  # close() lets go of it
        frames.close(self.ws, code, reason)
        self.finished = True
        self.lingering = socket

    def _linger(self):
        """Read and drop what the client still sends after the server's close
        frame, until it closes too (or for LINGER_SECONDS): closing a socket
        with unread data resets the connection under a client still writing."""
        with gevent.Timeout(LINGER_SECONDS, False):
            try:
                while self.lingering.recv(frames.CHUNK):
                    pass
            except OSError:
                pass  # the client reset the connection: it is gone all the same

    # -- input --------------------------------------------------------------

    def _reader(self):
        limits = self.limits
        shrunk = False
        try:
            while True:
                shrunk = shrunk or frames.shrink_read_buffer(self.ws)
                message = frames.receive(self.ws, limits.max_bytes, limits.hard_limit)
                if message is None:
                    return
                self.last_received = time.monotonic()
                self.heard = True
                if not self._admit_by_rate():
                    continue
                if message is frames.TOO_LARGE:
                    self.error("too_large", _("The message is too large."))
                else:
                    self.inbox.put(("socket", message))
        finally:
            self.inbox.put((GONE, None))

    def _admit_by_rate(self):
        if self.bucket.take():
            self.dropped = max(0, self.dropped - 1)
            return True
        self.dropped += 1
        if self.dropped > MAX_DROPPED:
            self.close(CLOSE_FLOOD)
        elif time.monotonic() - self.last_flood_error >= 1:
            self.last_flood_error = time.monotonic()
            self.error("rate_limited", _("Too many messages: slow down."))
        return False

    def beat(self, now):
        """The heartbeat's visit (in its greenlet): refuse a socket that
        said nothing within the hello's time, close an idle one, ping one
        whose ping is due."""
        if self.closing:
            return
        if self.role is None:
            if not self.heard and now - self.opened > HELLO_SECONDS:
                self.heard = True  # asked once
                self.inbox.put((NO_HELLO, None))
        elif now - self.last_received > self.limits.idle_seconds:
            self.close(CLOSE_IDLE)
        elif now - self.last_ping >= self.limits.ping_seconds:
            self.last_ping = now
            self.inbox.put((PING, None))

    # -- bus ----------------------------------------------------------------

    def subscribe(self, channel):
        if channel not in self.channels:
            self.channels.add(channel)
            self.bus.subscribe(channel, self._from_bus)

    def unsubscribe(self, channel):
        if channel in self.channels:
            self.channels.discard(channel)
            self.bus.unsubscribe(channel, self._from_bus)

    def _from_bus(self, message):
        # Runs in the bus's thread: only queue.
        if not isinstance(message, dict) or self.closing:
            return
        if self.inbox.qsize() > MAX_INBOX:
            log.info("realtime: closing a socket that does not keep up")
            self.close(CLOSE_IDLE)
            return
        self.inbox.put(("bus", message))

    def resync(self):
        """The bus reconnected: what this socket shows is loaded again
        (``at``: anything loaded before then may have missed messages)."""
        self.inbox.put(("bus", {"type": "_resync", "at": time.monotonic()}))

    # -- transactions -------------------------------------------------------

    def transaction(self, action, attempts=3):
        """``action(dbsession, events)`` in one short transaction of its own;
        the events are published after the commit. SQLite's "database is
        locked" (a concurrent writer) is retried."""
        request = self.request
        for attempt in range(attempts):
            events = Events(self.limits, request)
            try:
                with request.tm:
                    result = action(request.dbsession, events)
                    events.finish(request.dbsession)
                break
            except OperationalError:
                _abandon(request.tm)
                if attempt == attempts - 1:
                    raise
                gevent.sleep(0.05 * (attempt + 1))
            except BaseException:
                _abandon(request.tm)
                raise
        for channel, message in events.messages:
            self.bus.publish(channel, message)
        return result

    # -- life ---------------------------------------------------------------

    def serve(self, authenticate):
        """Run until the socket closes. ``authenticate(connection, hello)``
        returns the role object (see consultroom.realtime.door) or raises
        Refused."""
        self.handler = gevent.getcurrent()
        self.db = SessionPerBurst(self.request, self.organisation_id)
        reader = gevent.spawn_raw(self._reader)
        beating = heartbeat(self.registry)
        beating.connections.add(self)
        role = None
        try:
            role = self.role = self._hello(authenticate)
            if role is not None:
                self.registry["realtime_connections"].add(self)
                self.subscribe(peer_channel(self.peer))
                self._handle(role)
        finally:
            beating.connections.discard(self)
            self.registry["realtime_connections"].discard(self)
            for channel in list(self.channels):
                self.unsubscribe(channel)
            if role is not None:
                self._safely(role.stop)
            self.close()
            _stop(reader)
            self.db.release()
            if self.lingering:
                self._linger()

    def _next(self):
        """The next inbox item for the handler; what only the handler does
        (writing for others, pings, closing) is done here, and None is
        returned for it."""
        if self.inbox.empty():
            self.db.release()  # idle until the next item: no session held
        kind, payload = self.inbox.get()
        if kind == SEND:
            self.send_text(payload)
        elif kind == PING:
            self.send_text(PING_TEXT)
        elif kind == CLOSE:
            self._close_now(*payload)
        elif kind == GONE:
            self.closing = self.finished = True
        else:
            return kind, payload
        return None

    def _hello(self, authenticate):
        item = None
        while item is None and not self.finished:
            item = self._next()
        kind, raw = item or (None, None)
        hello = parse(raw) if kind == "socket" and isinstance(raw, str) else None
        if hello is None or hello.get("type") != "hello":
            return self._refuse(Refused("unauthorized", _("Say hello first.")))
        try:
            role = authenticate(self, hello)
        except Refused as exc:
            return self._refuse(exc)
        finally:
            # The user the hello was told by (an ORM object, reified on the
            # request, about 1.5 KiB) would stay for as long as the socket:
            # the role keeps the values it needs (consultroom.waitingroom.live
            # .Staff). The socket's language follows the user's
            # (consultroom.i18n): settled first, while the user is loaded and
            # not in a transaction later. Read again in a transaction,
            # ``request.user`` is loaded again.
            self.request.localizer  # noqa: B018
            self.request.__dict__.pop("user", None)
        self.send({"type": "welcome", "peer": self.peer, "role": role.name})
        try:
            role.start()
        except Refused as exc:
            return self._refuse(exc)
        return role

    def _refuse(self, refused):
        """Say why, and close: the error's code is the close reason too
        ("unauthorized", or "rate_limited" when the address tried too many
        tokens)."""
        self.error(refused.code, refused.message)
        self.close(CLOSE_UNAUTHORISED, refused.code)

    def _handle(self, role):
        while not self.finished:
            item = self._next()
            if item is None:
                continue
            source, raw = item
            if source == "bus":
                self._safely(role.on_bus, raw)
            else:
                self._from_socket(raw)

    def _from_socket(self, raw):
        message = parse(raw) if isinstance(raw, str) else None
        if message is None:
            self.error("malformed", _("The message is not a JSON object with a type."))
            return
        kind = message["type"]
        if kind == "pong":
            return
        if kind == "ping":
            self.send({"type": "pong"})
            return
        handler = door(self.registry).handler_for(self, kind)
        if handler is None:
            self.error(
                "unknown_type",
                _("Unknown message type ${type}.", mapping={"type": kind[:40]}),
            )
            return
        self._safely(handler, self, message)

    def _safely(self, method, *args):
        try:
            method(*args)
        except Refused as exc:
            self.error(exc.code, exc.message)
        except Exception:
            log.exception("realtime: handling a message failed")
            self.error("internal", _("Something went wrong. Please try again."))


class Heartbeat:
    """The one greenlet of a process that visits every open socket (see
    ``Connection.beat``) once a second, or every half ping when pings are
    more often (tests); and every ``presence_seconds`` says in the database
    which of the process's sockets are open (the door's ``presence``
    markers), so that another process can tell when this one died."""

    def __init__(self, registry):
        self.registry = registry
        limits = registry["realtime_limits"]
        self.connections = set()
        self.period = min(1.0, limits.ping_seconds / 2, limits.presence_seconds)
        self.presence_seconds = limits.presence_seconds
        self.last_presence = time.monotonic()
        self.greenlet = gevent.spawn(self._run)

    def _run(self):
        while True:
            gevent.sleep(self.period)
            now = time.monotonic()
            for connection in list(self.connections):
                try:
                    connection.beat(now)
                except Exception:
                    log.exception("realtime: heartbeat failed")
            if now - self.last_presence >= self.presence_seconds:
                self.last_presence = now
                gevent.spawn(self.mark_present)

    def mark_present(self):
        peers = [c.peer for c in list(self.registry["realtime_connections"])]
        markers = door(self.registry).presence
        if not peers or not markers:
            return
        manager = transaction.TransactionManager(explicit=True)
        try:
            with manager:
                session = request_session(self.registry["dbmaker"], manager)
                for mark in markers:
                    mark(session, peers, utcnow())
        except Exception:
            log.exception("realtime: marking the open sockets failed")


def heartbeat(registry):
    """This process's heartbeat, started with its first socket (in the
    process that serves it: gunicorn's worker, not its master)."""
    found = registry.get("realtime_heartbeat")
    if found is None:
        found = registry["realtime_heartbeat"] = Heartbeat(registry)
    return found


def _stop(reader):
    """Kill the raw greenlet ``reader`` and wait until it is gone: the
    socket it read may then be read by this greenlet (``_linger``)."""
    gevent.kill(reader)  # at the hub's next turn: a raw greenlet returns to it
    while not reader.dead:
        gevent.sleep(0)


def _abandon(manager):
    """Drop a transaction that failed in its commit: the manager keeps it,
    and the next ``begin`` would fail."""
    try:
        manager.abort()
    except NoTransaction:
        pass


def encode(message):
    return json.dumps(message, separators=(",", ":"))


def parse(raw):
    """A message object with a string type, or None."""
    try:
        message = parse_json(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message
