"""Serve the application for the browser tests: the production server
(gevent's WSGIServer with the websocket handler) in its own process.

``python live_server.py <settings.json> <port>``. gevent patches the standard
library before the application is imported, as ``consultroom.main`` does.
"""

from consultroom import patching

patching.patch()

import json  # noqa: E402
import sys  # noqa: E402

from consultroom.app import make_config  # noqa: E402
from consultroom.server import serve  # noqa: E402


def main(settings_path, port):
    with open(settings_path) as f:
        settings = json.load(f)
    serve(make_config(settings).make_wsgi_app(), {}, host="127.0.0.1", port=port)


if __name__ == "__main__":
    main(*sys.argv[1:])
