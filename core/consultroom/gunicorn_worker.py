"""gunicorn's worker class for Consultroom: gevent-websocket's worker with
the request handler of the pserve runner (:class:`consultroom.server.Handler`),
which makes no access-log line that nobody writes.

    gunicorn --paste production.ini -k consultroom.gunicorn_worker.Worker ...

gunicorn is not a dependency of the package: a hosting provider installs it
beside it, and only gunicorn imports this module.
"""

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker

from consultroom.server import Handler


class Worker(GeventWebSocketWorker):
    wsgi_handler = Handler
