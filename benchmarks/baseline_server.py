"""The benchmarks' baseline: plain gevent-websocket, no application.

    python benchmarks/baseline_server.py <port> [memory|redis] [<Redis URL>]

``/echo`` sends every message back. ``/fanout`` subscribes the socket to one
channel of the project's message bus (``consultroom.realtime.bus``) and
publishes every message it receives there, so every ``/fanout`` socket gets it.
With a Redis URL, ``/relay`` is the least a relay between processes does
through Redis: each message is published with redis-py as it comes, and
each process's one subscription (redis-py's PubSub) hands what another
process published to its own ``/relay`` sockets.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import gevent.queue  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

from consultroom.realtime.bus import make_bus  # noqa: E402


def echo(ws):
    while (message := ws.receive()) is not None:
        ws.send(message)


def fanout(ws, bus):
    outbox = gevent.queue.Queue()
    bus.subscribe("bench", outbox.put)
    sender = gevent.spawn(lambda: [ws.send(json.dumps(m)) for m in outbox])
    try:
        while (message := ws.receive()) is not None:
            bus.publish("bench", json.loads(message))
    finally:
        bus.unsubscribe("bench", outbox.put)
        sender.kill()


class RedisRelay:
    """``/relay``'s Redis: one connection publishes, one subscription
    delivers (what this process published itself it drops)."""

    CHANNEL = "consultroom:bench:relay"

    def __init__(self, url):
        import redis

        self.origin = secrets.token_hex(4).encode()
        self.sockets = set()
        self.redis = redis.Redis.from_url(url)
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.CHANNEL)
        gevent.spawn(self._deliver, pubsub)

    def __call__(self, ws):
        self.sockets.add(ws)
        try:
            while (message := ws.receive()) is not None:
                self.redis.publish(self.CHANNEL, self.origin + message.encode())
        finally:
            self.sockets.discard(ws)

    def _deliver(self, pubsub):
        for item in pubsub.listen():
            origin, text = item["data"][: len(self.origin)], item["data"][len(self.origin) :]
            if origin != self.origin:
                for ws in list(self.sockets):
                    ws.send(text.decode())


def make_app(bus, relay=None):
    def app(environ, start_response):
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"websockets only"]
        if environ["PATH_INFO"] == "/echo":
            echo(ws)
        elif environ["PATH_INFO"] == "/relay" and relay is not None:
            relay(ws)
        else:
            fanout(ws, bus)
        return []

    return app


def main(port, bus_kind="memory", relay_redis=None):
    bus = make_bus({"realtime.bus": bus_kind})
    relay = RedisRelay(relay_redis) if relay_redis else None
    WSGIServer(
        ("127.0.0.1", int(port)), make_app(bus, relay), handler_class=WebSocketHandler, log=None
    ).serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
