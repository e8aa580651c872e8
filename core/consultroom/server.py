"""The PasteDeploy server runner that serves HTTP and websockets.

``use = egg:consultroom#gevent_websocket`` in an ini file's ``[server:main]``
(production runs gunicorn with ``consultroom.gunicorn_worker.Worker``, which
uses this module's request handler).
pserve loads the application (``consultroom.main``, which patches the
standard library for gevent first) before this runner; the runner refuses to
serve if the patch came too late.
"""

import logging
import socket

from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

from consultroom import patching


class Handler(WebSocketHandler):
    """gevent-websocket's request handler, as this runner and the gunicorn
    worker (consultroom.gunicorn_worker) use it."""

    def __init__(self, sock, *args, **kw):
        # Without it a keep-alive response waits ~40 ms for a delayed ACK.
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, *args, **kw)

    def log_request(self):
        # gevent-websocket formats the access-log line of every request before
        # its logger drops it (below INFO, as it is unless configured): about
        # 4 % of the login page's time in the server.
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request()


def serve(wsgi_app, global_conf, host="127.0.0.1", port="6543", **kw):
    patching.ensure()
    server = WSGIServer((host, int(port)), wsgi_app, handler_class=Handler)
    print(f"Serving on http://{host}:{port}", flush=True)
    server.serve_forever()
