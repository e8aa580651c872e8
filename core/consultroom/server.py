"""The PasteDeploy server runner that serves HTTP and websockets.

``use = egg:consultroom#gevent_websocket`` in an ini file's ``[server:main]``.
pserve loads the server before the application, so importing this module
patches the standard library for gevent before psycopg and the application
are imported (patching later makes every database call block the process).
"""
from gevent import monkey

monkey.patch_all()

from gevent.pywsgi import WSGIServer  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def serve(wsgi_app, global_conf, host="127.0.0.1", port="6543", **kw):
    server = WSGIServer((host, int(port)), wsgi_app, handler_class=WebSocketHandler)
    print(f"Serving on http://{host}:{port}", flush=True)
    server.serve_forever()
