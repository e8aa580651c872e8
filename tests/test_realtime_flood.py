"""The websocket's flood rule (consultroom.realtime.connection): messages
over the rate are dropped, and a socket is closed (4429) when its dropped
messages, less one for each admitted, reach MAX_DROPPED. So a client sending
more than twice the rate is closed however fast the server reads it, and one
a little over the rate is throttled, never closed."""

import itertools
from types import SimpleNamespace

import pytest

from consultroom.realtime.connection import CLOSE_FLOOD, MAX_DROPPED, Connection

pytestmark = pytest.mark.sqlite_only  # no database


def _socket(admitted_every):
    """A socket whose bucket admits one message of every ``admitted_every``:
    how a server that reads a flood slowly sees it (tokens come back between
    the frames it reads)."""
    tokens = itertools.cycle([True] + [False] * (admitted_every - 1))
    closed = []
    return SimpleNamespace(
        bucket=SimpleNamespace(take=lambda: next(tokens)),
        dropped=0,
        last_flood_error=0.0,
        error=lambda code, message: None,
        close=closed.append,
        closed=closed,
    )


def _send(socket, messages):
    for _ in range(messages):
        Connection._admit_by_rate(socket)  # noqa: SLF001 (the rule itself)


def test_a_flood_read_slowly_is_closed():
    socket = _socket(admitted_every=3)  # three times the rate
    _send(socket, 3 * MAX_DROPPED + 3)
    assert socket.closed and socket.closed[0] == CLOSE_FLOOD


def test_a_client_a_little_over_the_rate_is_throttled_not_closed():
    socket = _socket(admitted_every=2)  # twice the rate: as many dropped as admitted
    _send(socket, 100 * MAX_DROPPED)
    assert socket.closed == [] and socket.dropped <= 1
