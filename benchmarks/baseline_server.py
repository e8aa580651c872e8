"""The benchmarks' baseline: plain gevent-websocket, no application.

    python benchmarks/baseline_server.py <port> [memory|redis]

``/echo`` sends every message back. ``/fanout`` subscribes the socket to one
channel of the project's message bus (``consultroom.realtime.bus``) and
publishes every message it receives there, so every ``/fanout`` socket gets it.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
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


def make_app(bus):
    def app(environ, start_response):
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"websockets only"]
        if environ["PATH_INFO"] == "/echo":
            echo(ws)
        else:
            fanout(ws, bus)
        return []

    return app


def main(port, bus_kind="memory"):
    bus = make_bus({"realtime.bus": bus_kind})
    WSGIServer(
        ("127.0.0.1", int(port)), make_app(bus), handler_class=WebSocketHandler, log=None
    ).serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
