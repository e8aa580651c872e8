"""Serve the application for the browser tests: the production server
(gevent's WSGIServer with the websocket handler) in its own process.

``python live_server.py <settings.json> <port>``. gevent patches the standard
library before the server is imported; the application is made by
``consultroom.main``, as pserve and gunicorn make it.
"""

from consultroom import patching

patching.patch()

import json  # noqa: E402
import sys  # noqa: E402

import consultroom  # noqa: E402
from consultroom.server import serve  # noqa: E402


def main(settings_path, port):
    with open(settings_path) as f:
        settings = json.load(f)
    serve(consultroom.main({}, **settings), {}, host="127.0.0.1", port=port)


if __name__ == "__main__":
    main(*sys.argv[1:])
