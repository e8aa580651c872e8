"""The request handler of the pserve runner (consultroom.server) and of the
gunicorn worker: its access-log line is made only when a logger would write
it. The live servers of the tests run both (tests/realtime_support.py)."""

import logging
from types import SimpleNamespace

import pytest

from consultroom.server import Handler

ACCESS_LOGGER = "geventwebsocket.handler"


@pytest.fixture
def handler(monkeypatch):
    """A handler that has answered a request, without a connection."""
    handler = Handler.__new__(Handler)
    handler.server = SimpleNamespace()
    handler.status = "200 OK"
    handler.formatted = 0

    def format_request():
        handler.formatted += 1
        return '127.0.0.1 - - [now] "GET /login HTTP/1.1" 200 1234 0.001'

    monkeypatch.setattr(handler, "format_request", format_request)
    return handler


def test_the_access_line_is_not_made_when_nothing_would_write_it(handler, caplog):
    with caplog.at_level(logging.WARNING, logger=ACCESS_LOGGER):
        handler.log_request()
    assert handler.formatted == 0
    assert caplog.records == []


def test_the_access_line_is_written_when_the_logger_is_at_info(handler, caplog):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        handler.log_request()
    assert handler.formatted == 1
    assert [r.getMessage() for r in caplog.records] == [
        '127.0.0.1 - - [now] "GET /login HTTP/1.1" 200 1234 0.001'
    ]


def test_the_gunicorn_worker_serves_with_the_runners_handler():
    from consultroom.gunicorn_worker import Worker

    assert Worker.wsgi_handler is Handler
