"""The message bus between the sockets of all app processes.

``publish(channel, message)`` reaches every ``subscribe(channel, callback)``
of every process. ``MemoryBus`` serves one process; ``RedisBus`` carries the
messages through Redis pub/sub, so that a practitioner on one process and a
client on another reach each other without sticky sessions.

Messages are dicts of JSON values. Callbacks run in the bus's own thread (a
greenlet under gevent) and must not block: a socket's callback only queues.
The database, not the bus, is the authoritative state: a message lost while
Redis restarts is made good by the ``on_reconnect`` callbacks, which make
every socket resync from the database.

The bus is a service (``IMessageBus``): code finds it with
``message_bus(registry)``; a test or a plugin swaps the implementation by
registering another ``IMessageBus`` utility.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zope.interface import Interface, implementer

if TYPE_CHECKING:
    from pyramid.registry import Registry
    from redis.client import PubSub

log = logging.getLogger(__name__)

# A message: a dict of JSON values, which the bus does not look into.
Message = dict[str, Any]
Callback = Callable[[Message], None]


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
        with self._lock:
            self._subscribers[channel].append(callback)

    def unsubscribe(self, channel: str, callback: Callback) -> None:
        with self._lock:
            callbacks = self._subscribers.get(channel)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[channel]

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        self._reconnect_callbacks.append(callback)

    def publish(self, channel: str, message: Message) -> None:
        self._deliver(channel, message)

    def _deliver(self, channel: str, message: Message) -> None:
        with self._lock:
            callbacks = list(self._subscribers.get(channel, ()))
        for callback in callbacks:
            try:
                callback(message)
            except Exception:
                log.exception("bus subscriber failed on %s", channel)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


class RedisBus(MemoryBus):
    """Every process subscribes to one Redis channel and dispatches locally.

    One Redis subscription per process (not one per socket) keeps
    resubscribing after a Redis restart a single command, and delivery to
    sockets of the publishing process does not depend on Redis at all: those
    are delivered directly and skipped when Redis echoes them back.
    """

    BACKOFF = (0.1, 0.2, 0.5, 1.0)

    def __init__(self, url: str, channel: str = "consultroom:realtime") -> None:
        super().__init__()
        import redis

        self._redis = redis
        self._url = url
        self._channel = channel
        self._origin = secrets.token_hex(8)
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._connected_once = False
        self._thread = threading.Thread(target=self._listen, name="redis-bus", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float = 5) -> bool:
        """Whether the subscription is in place (for tests and start-up checks)."""
        return self._ready.wait(timeout)

    def publish(self, channel: str, message: Message) -> None:
        self._deliver(channel, message)
        payload = json.dumps({"o": self._origin, "c": channel, "m": message})
        for attempt in range(2):
            try:
                self._publisher.publish(self._channel, payload)
                return
            except self._redis.RedisError:
                if attempt:
                    log.warning("redis bus: message on %s not published", channel)

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
        # redis-py leaves pubsub() unannotated.
        pubsub: PubSub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self._channel)
            # After a Redis restart, messages may have been lost meanwhile.
            resync, self._connected_once = self._connected_once, True
            self._ready.set()
            if resync:
                self._resync()
            while not self._stopped.is_set():
                item = pubsub.get_message(timeout=1.0)
                if item is not None:
                    self._receive(item["data"])
        finally:
            pubsub.close()
            client.close()

    def _resync(self) -> None:
        for callback in self._reconnect_callbacks:
            try:
                callback()
            except Exception:
                log.exception("bus reconnect callback failed")

    def _receive(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
        except ValueError:
            return
        if envelope.get("o") != self._origin:
            self._deliver(envelope.get("c"), envelope.get("m"))

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=3)
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
        )
    raise ValueError(f"realtime.bus: unknown bus {kind!r} (memory or redis)")
