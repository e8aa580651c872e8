"""The heartbeat's visit to a socket (``Connection.beat``): one greenlet per
process decides, for each socket, whether its hello is overdue, whether it
is idle, and whether its ping is due; the socket's own greenlet acts on it."""

import types

from pyramid.registry import Registry

from consultroom.realtime.bus import IMessageBus, MemoryBus
from consultroom.realtime.connection import (
    CLOSE,
    CLOSE_IDLE,
    HELLO_SECONDS,
    NO_HELLO,
    PING,
    Connection,
    Limits,
)

LIMITS = Limits(ping_seconds=20, idle_seconds=60)


def connection():
    registry = Registry()
    registry.registerUtility(MemoryBus(), IMessageBus)
    request = types.SimpleNamespace(registry=registry, organisation=types.SimpleNamespace(id=1))
    return Connection(ws=None, request=request, limits=LIMITS)


def queued(conn):
    items = []
    while not conn.inbox.empty():
        items.append(conn.inbox.get())
    return items


def test_a_socket_that_said_nothing_in_time_is_refused_once():
    conn = connection()
    conn.beat(conn.opened + HELLO_SECONDS - 1)
    assert queued(conn) == []
    conn.beat(conn.opened + HELLO_SECONDS + 1)
    conn.beat(conn.opened + HELLO_SECONDS + 2)
    assert queued(conn) == [(NO_HELLO, None)]


def test_a_hello_that_came_but_waits_for_a_busy_process_is_not_refused():
    conn = connection()
    conn.heard = True  # the reader has it; the handler has not got to it yet
    conn.beat(conn.opened + 5 * HELLO_SECONDS)
    assert queued(conn) == []


def test_pings_are_due_every_ping_seconds_and_an_idle_socket_is_closed():
    conn = connection()
    conn.role = object()  # said hello
    start = conn.opened
    conn.beat(start + 10)
    assert queued(conn) == []
    conn.beat(start + 20)
    conn.beat(start + 21)
    assert queued(conn) == [(PING, None)]
    conn.last_received = start + 30  # it answered
    conn.beat(start + 85)
    assert queued(conn) == [(PING, None)]
    conn.beat(start + 91)  # nothing for more than 60 s
    assert queued(conn) == [(CLOSE, (CLOSE_IDLE, ""))]
    conn.beat(start + 120)
    assert queued(conn) == []  # closing: nothing more
