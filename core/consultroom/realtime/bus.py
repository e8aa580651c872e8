"""The message bus between the sockets of all app processes.

``publish(channel, message)`` reaches every ``subscribe(channel, callback)``
of every process. ``MemoryBus`` serves one process; ``RedisBus`` carries the
messages to the other processes through Redis pub/sub, so that a
practitioner on one process and a client on another reach each other
without sticky sessions.

Messages are dicts of JSON values. Callbacks run in the publisher's or the
bus's own thread (a greenlet under gevent) and must not block: a socket's
callback only queues. The database, not the bus, is the authoritative
state: a message lost while Redis restarts is made good by the
``on_reconnect`` callbacks, which make every socket resync from the
database.

The bus is a service (``IMessageBus``): code finds it with
``message_bus(registry)``; a test or a plugin swaps the implementation by
registering another ``IMessageBus`` utility.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zope.interface import Interface, implementer

from consultroom.realtime.interest import EVERYTHING, Interests

if TYPE_CHECKING:
    from pyramid.registry import Registry
    from redis.client import PubSub

log = logging.getLogger(__name__)

# A message: a dict of JSON values, which the bus does not look into.
Message = dict[str, Any]
Callback = Callable[[Message], None]

# Channels with at most one subscriber in all processes: a socket's own
# channel, named after its random peer id (consultroom.realtime.peer_channel).
# When that subscriber is in the publishing process, nobody else can be;
# else the message goes to Redis. They are not announced to the other
# processes: every socket has one, and each process would keep all of them.
UNICAST_PREFIXES = ("peer:",)


class IMessageBus(Interface):
    def publish(channel: str, message: Message) -> None:
        """Deliver ``message`` (a dict of JSON values) to every callback
        subscribed to ``channel``, in every process. Never raises for the
        transport: a message it loses is made good by ``on_reconnect``."""

    def subscribe(channel: str, callback: Callback) -> None:
        """Call ``callback(message)`` for every message on ``channel`` from
        now on (a socket joining a channel). It runs in the bus's thread and
        must not block."""

    def unsubscribe(channel: str, callback: Callback) -> None:
        """Stop calling ``callback`` for ``channel`` (a socket leaving it or
        closing); nothing happens when it was not subscribed."""

    def on_reconnect(callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever messages may have been lost (the bus
        got its connection back), so that every socket resyncs from the
        database. Called once, when the realtime feature is set up."""


@implementer(IMessageBus)
class MemoryBus:
    """Delivers within this process, synchronously."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, list[Callback]] = defaultdict(list)
        self._lock = threading.Lock()
        self._reconnect_callbacks: list[Callable[[], None]] = []

    def subscribe(self, channel: str, callback: Callback) -> None:
        self._add(channel, callback)

    def unsubscribe(self, channel: str, callback: Callback) -> None:
        self._remove(channel, callback)

    def _add(self, channel: str, callback: Callback) -> bool:
        """Whether ``channel`` had no subscriber here before."""
        with self._lock:
            callbacks = self._subscribers[channel]
            callbacks.append(callback)
            return len(callbacks) == 1

    def _remove(self, channel: str, callback: Callback) -> bool:
        """Whether ``channel`` has no subscriber here any more."""
        with self._lock:
            callbacks = self._subscribers.get(channel)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[channel]
                    return True
        return False

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        self._reconnect_callbacks.append(callback)

    def publish(self, channel: str, message: Message) -> None:
        self._deliver(channel, message)

    def _deliver(self, channel: str, message: Message) -> bool:
        """Call the local subscribers; whether there were any."""
        with self._lock:
            callbacks = list(self._subscribers.get(channel, ()))
        for callback in callbacks:
            try:
                callback(message)
            except Exception:
                log.exception("bus subscriber failed on %s", channel)
        return bool(callbacks)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


class RedisBus(MemoryBus):
    """Local subscribers directly, the other processes through Redis.

    A message is delivered to this process's subscribers at once, without
    Redis. It goes to Redis too only when another process may have a
    subscriber of its channel (consultroom.realtime.interest; a unicast
    channel: unless its subscriber is here): a message between sockets of
    one process never leaves it. A background publisher
    encodes and sends what queued up in one pipeline, so that ``publish``
    never waits on Redis.

    Every process subscribes to one Redis channel (one subscription per
    process, not per socket, keeps resubscribing after a Redis restart a
    single command). A payload starts with the publishing process's id and
    the bus channel, then the JSON: a process drops its own echo, and
    messages for channels it has no subscriber of, before parsing any JSON.
    The same channel carries the processes' announcements, whose header
    starts with ``!`` (bus channels never do): ``!hello`` (asks the
    others for their lists) and ``!list`` (a process's whole list of
    channels, in answer to one process's hello), ``!+`` and ``!-`` (a
    channel gained, with an id to
    acknowledge, or lost), ``!ack`` and ``!bye``. Each process also keeps
    its entry in a Redis hash (the directory, the channel's name with
    ``:processes``) fresh every ``HEARTBEAT`` seconds; an entry older than
    ``EXPIRY`` is a process that died, whose channels are forgotten.
    """

    BACKOFF = (0.1, 0.2, 0.5, 1.0)
    MAX_QUEUED = 10000  # messages waiting for Redis; more are dropped (resync makes good)
    BATCH = 200  # messages per pipeline
    HEARTBEAT = 2.0
    EXPIRY = 10.0  # seconds; wall clocks of the app hosts agree far better than that
    # A subscription's longest wait for the others' acknowledgements: a
    # process alive answers within milliseconds; one that died (listed
    # until EXPIRY, after a restart) costs each new process this once.
    ACK_SECONDS = 0.5

    def __init__(
        self, url: str, channel: str = "consultroom:realtime", interest: bool = True
    ) -> None:
        super().__init__()
        import redis

        self._redis = redis
        self._url = url
        self._channel = channel
        self._directory = f"{channel}:processes"
        self._origin = secrets.token_hex(8).encode("ascii")
        self._interests = Interests()
        # Off: every message goes to Redis, and the others send this process
        # every message (its list is EVERYTHING); see make_bus.
        self._interest = interest
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._outgoing: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._connected_once = False
        self._threads = [
            threading.Thread(target=self._listen, name="redis-bus", daemon=True),
            threading.Thread(target=self._send, name="redis-bus-publisher", daemon=True),
            threading.Thread(target=self._beat, name="redis-bus-directory", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def wait_ready(self, timeout: float = 5, peers: int = 0) -> bool:
        """Whether the subscription is in place and every process alive has
        sent its list, at least ``peers`` of them (for tests and start-up
        checks: a process that starts later is not known at once)."""
        deadline = time.monotonic() + timeout
        if not self._ready.wait(timeout):
            return False
        while not (self._interests.synced and self._interests.peers >= peers):
            if time.monotonic() > deadline:
                return False
            self._stopped.wait(0.01)
        return True

    # -- subscriptions ----------------------------------------------------------

    def subscribe(self, channel: str, callback: Callback) -> None:
        first = self._add(channel, callback)
        if not (first and self._interest) or channel.startswith(UNICAST_PREFIXES):
            return
        # Once the others have acknowledged, their messages on the channel
        # come here through Redis: what the subscriber loads next misses none.
        ident, done = self._interests.expect()
        self._outgoing.put(("!+", f"{ident} {channel}"))
        if done.wait(self.ACK_SECONDS):
            self._interests.finished(ident)
        else:
            log.warning("redis bus: a process did not acknowledge %s in time", channel)
            self._interests.give_up(ident)

    def unsubscribe(self, channel: str, callback: Callback) -> None:
        last = self._remove(channel, callback)
        if last and self._interest and not channel.startswith(UNICAST_PREFIXES):
            self._outgoing.put(("!-", channel))

    def _announce_list(self, kind: str, to: bytes = b"") -> None:
        """``!hello`` (to all: send me your lists) or ``!list`` (to one
        process, in answer): the first line is the process it is for."""
        head = to.decode("ascii")
        if not self._interest:
            self._outgoing.put((kind, f"{head}\n{EVERYTHING}"))
            return
        # Under the lock: no channel is gained or lost between the list and
        # its place in the queue, so the others see them in order.
        with self._lock:
            listed = (c for c in self._subscribers if not c.startswith(UNICAST_PREFIXES))
            self._outgoing.put((kind, "\n".join((head, *listed))))

    # -- out ------------------------------------------------------------------

    def publish(self, channel: str, message: Message) -> None:
        delivered = self._deliver(channel, message)
        if channel.startswith(UNICAST_PREFIXES):
            if delivered:
                return
        elif self._interest and not self._interests.needs_redis(channel):
            return
        if self._outgoing.qsize() >= self.MAX_QUEUED:
            log.warning(
                "redis bus: %d messages wait for Redis; dropped one on %s", self.MAX_QUEUED, channel
            )
            return
        # Encoded by the publisher, not here: the publishing socket goes on
        # at once (local subscribers already have the message).
        self._outgoing.put((channel, message))

    def _payload(self, channel: str, message: Any) -> bytes | None:
        if channel.startswith("!"):  # an announcement: its text as it is
            return b"%s%s\n%s" % (self._origin, channel.encode(), message.encode())
        try:
            body = json.dumps(message, separators=(",", ":"))
        except (TypeError, ValueError):
            # A publisher's bug; the publisher thread must outlive it.
            log.exception("redis bus: a message on %s is not JSON; not published", channel)
            return None
        return b"%s%s\n%s" % (self._origin, channel.encode(), body.encode())

    def _send(self) -> None:
        """The publisher: everything queued, in order, one pipeline at a time."""
        while True:
            item = self._outgoing.get()
            batch = []
            while item is not None:
                payload = self._payload(*item)
                if payload is not None:
                    batch.append(payload)
                if len(batch) == self.BATCH or self._outgoing.empty():
                    break
                item = self._outgoing.get()
            if batch:
                self._publish_batch(batch)
            if item is None:  # close()
                return

    def _publish_batch(self, batch: list[bytes]) -> None:
        for attempt in range(2):
            try:
                pipeline = self._publisher.pipeline(transaction=False)
                for payload in batch:
                    pipeline.publish(self._channel, payload)
                pipeline.execute()
                return
            except self._redis.RedisError:
                if attempt:
                    log.warning("redis bus: %d messages not published", len(batch))

    # -- the directory ----------------------------------------------------------

    def _beat(self) -> None:
        """Keep this process's directory entry fresh; find processes that
        came (asked for their lists) and those that died (forgotten)."""
        while not self._stopped.wait(self.HEARTBEAT):
            if self._ready.is_set():
                try:
                    self._look_around()
                except self._redis.RedisError as exc:
                    log.info("redis bus: directory not refreshed: %s", exc)

    def _look_around(self) -> None:
        now = time.time()
        pipeline = self._publisher.pipeline(transaction=False)
        pipeline.hset(self._directory, self._origin, now)
        # Gone with the last process (a test server's, a renamed channel's).
        pipeline.expire(self._directory, max(1, int(self.EXPIRY * 3)))
        pipeline.hgetall(self._directory)
        read_after = self._interests.mark()
        entries = pipeline.execute()[2]
        alive, dead = set(), []
        for process, seen in entries.items():
            if now - float(seen) > self.EXPIRY:
                dead.append(process)
            elif process != self._origin:
                alive.add(process)
        if dead:
            self._publisher.hdel(self._directory, *dead)
        if self._interests.alive(alive, read_after):
            self._announce_list("!hello")

    # -- in -------------------------------------------------------------------

    def _listen(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                self._subscription()
                failures = 0
            except self._redis.RedisError as exc:
                self._ready.clear()
                delay = self.BACKOFF[min(failures, len(self.BACKOFF) - 1)]
                failures += 1
                log.info("redis bus: %s; reconnecting in %.1f s", exc, delay)
                self._stopped.wait(delay)

    def _subscription(self) -> None:
        client = self._redis.Redis.from_url(
            self._url, socket_connect_timeout=2, health_check_interval=10
        )
        pubsub: PubSub = client.pubsub()
        try:
            pubsub.subscribe(self._channel)
            # Confirmed before the directory lists this process: another
            # that finds it there may announce a channel at once.
            self._confirmed(pubsub)
            # After a Redis restart, messages may have been lost meanwhile,
            # announcements too.
            resync, self._connected_once = self._connected_once, True
            if resync:
                self._interests.forget_lists()
            self._look_around()
            self._announce_list("!hello")
            self._ready.set()
            if resync:
                self._resync()
            while not self._stopped.is_set():
                item = pubsub.get_message(timeout=1.0)
                if item is not None and item["type"] == "message":
                    self._receive(item["data"])
        finally:
            pubsub.close()
            client.close()

    def _confirmed(self, pubsub: PubSub) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            item = pubsub.get_message(timeout=1.0)
            if item is not None and item["type"] == "subscribe":
                return
        raise self._redis.ConnectionError("the subscription was not confirmed")

    def _resync(self) -> None:
        for callback in self._reconnect_callbacks:
            try:
                callback()
            except Exception:
                log.exception("bus reconnect callback failed")

    def _receive(self, data: bytes) -> None:
        origin = len(self._origin)
        if data[:origin] == self._origin:
            return  # delivered when it was published
        header, _, body = data[origin:].partition(b"\n")
        channel = header.decode("utf-8", "replace")
        if channel.startswith("!"):
            self._announced(data[:origin], channel, body.decode("utf-8", "replace"))
            return
        if channel not in self._subscribers:
            return
        try:
            message = json.loads(body)
        except ValueError:
            return
        self._deliver(channel, message)

    def _announced(self, process: bytes, kind: str, text: str) -> None:
        interests = self._interests
        if kind == "!hello":
            # Its list may be older than its subscriptions since (made before
            # it knew of this process, they waited for no answer from here):
            # only a list it makes in answer to this process's hello counts.
            self._announce_list("!list", to=process)
            if not interests.heard_of(process):
                self._announce_list("!hello")
        elif kind == "!list":
            to, _, channels = text.partition("\n")
            if to.encode("ascii") == self._origin:
                interests.listed(process, set(channels.split("\n")) - {""})
        elif kind == "!+":
            ident, _, channel = text.partition(" ")
            interests.gained(process, channel)
            self._outgoing.put(("!ack", f"{process.decode('ascii')} {ident}"))
        elif kind == "!-":
            interests.lost(process, text)
        elif kind == "!ack":
            to, _, ident = text.partition(" ")
            late = to.encode("ascii") == self._origin and interests.acknowledged(
                process, int(ident)
            )
            if late:
                log.warning("redis bus: a late acknowledgement; every socket resyncs")
                self._resync()
        elif kind == "!bye":
            interests.gone(process)

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(self._redis.RedisError):
            self._publisher.hdel(self._directory, self._origin)
        self._outgoing.put(("!bye", ""))
        self._outgoing.put(None)  # the publisher sends what is queued, then stops
        for thread in self._threads:
            thread.join(timeout=3)
        self._publisher.close()
        super().close()


def message_bus(registry: Registry) -> IMessageBus:
    bus: IMessageBus = registry.getUtility(IMessageBus)
    return bus


def make_bus(settings: Mapping[str, str]) -> MemoryBus:
    """The bus named by the ``realtime.bus`` setting: ``memory`` or ``redis``."""
    kind = settings.get("realtime.bus", "memory")
    if kind == "memory":
        return MemoryBus()
    if kind == "redis":
        return RedisBus(
            settings.get("redis.url", "redis://127.0.0.1:6379/0"),
            channel=settings.get("realtime.redis_channel", "consultroom:realtime"),
            # A subscription waits for the other processes, sometimes inside
            # a database transaction. On SQLite a process waiting for a lock
            # stops whole (its busy wait is not gevent's), and two processes
            # would wait for each other: there, every message goes to Redis.
            interest=not settings.get("sqlalchemy.url", "").startswith("sqlite"),
        )
    raise ValueError(f"realtime.bus: unknown bus {kind!r} (memory or redis)")
