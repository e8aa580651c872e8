"""What an open socket holds between its messages (issue 11, memory per
socket): no database session (consultroom.realtime.dbsession), an inbox
without gevent's queues (consultroom.realtime.connection.Inbox), a small
read buffer (consultroom.realtime.frames.shrink_read_buffer), no logger for
its transactions (consultroom.db), and not the user its hello loaded. Its
request has no class of its own either: no request of the application has
(consultroom.app.one_request_class, tested in test_request_class). The
sockets' behaviour over real websockets is tested in test_realtime_ws and
the others; here, that what is let go of is gone."""

import gc
import logging
import sys
import threading
import types
import weakref

import gevent
import transaction
from pyramid.decorator import reify
from pyramid.registry import Registry
from sqlalchemy import select

from consultroom.accounts.models import User
from consultroom.clients.models import Client
from consultroom.db.scope import follow_request, in_scope
from consultroom.realtime import frames
from consultroom.realtime.bus import IMessageBus, MemoryBus
from consultroom.realtime.connection import Connection, Inbox, Limits
from consultroom.realtime.dbsession import SessionPerBurst


def socket_request(dbmaker):
    """What SessionPerBurst uses of a websocket's request."""
    return types.SimpleNamespace(
        registry={"dbmaker": dbmaker}, tm=transaction.TransactionManager(explicit=True)
    )


def gone(reference):
    gc.collect()
    return reference() is None


def test_a_transaction_gets_a_session_kept_to_the_organisation_and_joined_to_it(
    _app_dbmaker, dbsession, make_organisation
):
    mine, other = make_organisation(), make_organisation()
    dbsession.add_all([Client(organisation_id=o.id, last_name=o.name) for o in (mine, other)])
    dbsession.flush()
    request = socket_request(_app_dbmaker)
    burst = SessionPerBurst(request, mine.id)
    with request.tm:
        session = request.dbsession
        assert in_scope(session)
        # An unfiltered query reads only the socket's organisation's rows.
        assert set(session.scalars(select(Client.last_name))) == {mine.name}
        session.add(Client(organisation_id=mine.id, last_name="Written"))
    # Committed by the transaction manager (no commit by hand).
    assert dbsession.scalar(select(Client.id).where(Client.last_name == "Written"))
    burst.release()


def test_a_burst_shares_one_session_and_an_idle_socket_holds_none(_app_dbmaker, db_connection):
    request = socket_request(_app_dbmaker)
    burst = SessionPerBurst(request, 1)
    with request.tm:
        first = request.dbsession
    with request.tm:
        assert request.dbsession is first
    held = weakref.ref(first)
    del first
    burst.release()
    assert "dbsession" not in vars(request)
    assert gone(held)
    with request.tm:
        assert request.dbsession is not None  # a new one for the next burst
    burst.release()


def test_the_session_the_request_made_itself_is_let_go_of_too(_app_dbmaker, db_connection):
    request = socket_request(_app_dbmaker)
    request.finished_callbacks = []
    request.add_finished_callback = request.finished_callbacks.append
    # As request.dbsession does (consultroom.db): scoped until the request ends.
    request.dbsession = _app_dbmaker()
    follow_request(request.dbsession, request)
    held = weakref.ref(request.dbsession)
    burst = SessionPerBurst(request, 1)
    with request.tm:
        assert request.dbsession is not held()
    burst.release()
    # The request's finished callback does not keep it alive, and still runs.
    assert gone(held)
    for callback in request.finished_callbacks:
        callback(request)


def test_transactions_in_many_greenlets_add_no_logger(app):
    """``transaction`` names a logger after the thread's ident, which under
    gevent is the greenlet's: each socket's transactions (its request's
    manager, as in socket_request) would add one that logging keeps for
    good. The application makes them share one
    (consultroom.db._one_transaction_logger)."""
    loggers = logging.Logger.manager.loggerDict
    before = {name for name in loggers if name.startswith("txn.")}
    count = 20
    together = threading.Barrier(count)  # all alive at once: no ident is reused
    idents = set()

    def socket_transactions():
        manager = transaction.TransactionManager(explicit=True)
        together.wait()
        idents.add(threading.get_ident())
        for _ in range(3):
            with manager:
                pass
        together.wait()

    workers = [threading.Thread(target=socket_transactions) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert len(idents) == count  # each its own ident: its own logger, unshared
    assert {name for name in loggers if name.startswith("txn.")} == before


class HelloRequest:
    """What a Connection reads of its request, and its reified ``localizer``,
    whose language follows the user's (consultroom.i18n)."""

    def __init__(self, registry, user):
        self.registry = registry
        self.organisation = types.SimpleNamespace(id=1)
        self.user = user

    @reify
    def localizer(self):
        return f"the language of {self.__dict__.get('user')!r}"


def test_the_user_the_hello_loaded_is_let_go_of():
    """The hello reads ``request.user`` (reified: kept on the request); the
    role keeps what it needs of it, the request lets it go once the
    socket's language is settled."""
    registry = Registry()
    registry.registerUtility(MemoryBus(), IMessageBus)
    user = User(id=7)
    request = HelloRequest(registry, user)
    spoken = f"the language of {user!r}"
    held = weakref.ref(user)
    del user
    conn = Connection(ws=None, request=request, limits=Limits())
    conn.inbox.put(("socket", '{"type":"hello","role":"staff"}'))
    kept = []
    role = types.SimpleNamespace(name="staff", start=lambda: None)

    def authenticate(connection, hello):
        kept.append(connection.request.user.id)
        return role

    assert conn._hello(authenticate) is role
    assert kept == [7]
    assert "user" not in vars(request)
    assert gone(held)
    assert request.localizer == spoken


def test_the_inbox_is_first_in_first_out_and_wakes_its_reader():
    inbox = Inbox()
    inbox.put(1)
    inbox.put(2)
    assert (inbox.qsize(), inbox.get(), inbox.get(), inbox.empty()) == (2, 1, 2, True)
    got = []
    reader = gevent.spawn(lambda: got.extend([inbox.get(), inbox.get()]))
    gevent.sleep(0)  # the reader waits
    inbox.put("a")
    inbox.put("b")  # the putter is not switched away from
    assert got == []
    reader.join(timeout=1)
    assert got == ["a", "b"]


def upgraded(sent_early=b""):
    """A websocket as gevent-websocket leaves it after the upgrade (the
    parts frames.shrink_read_buffer touches), and the client's end."""
    from gevent import socket

    server, client = socket.socketpair()
    client.sendall(b"GET /ws HTTP/1.1\r\n\r\n" + sent_early)
    rfile = server.makefile("rb", -1)
    assert rfile.readline() == b"GET /ws HTTP/1.1\r\n" and rfile.readline() == b"\r\n"
    wsgi_input = types.SimpleNamespace(rfile=rfile)  # gevent's Input
    handler = types.SimpleNamespace(socket=server, rfile=rfile, wsgi_input=wsgi_input)
    environ = {"wsgi.input": rfile}  # for an upgrade, gevent's handler puts the file
    stream = types.SimpleNamespace(read=rfile.read)
    ws = types.SimpleNamespace(
        handler=handler, environ=environ, stream=stream, raw_read=rfile.read, closed=False
    )
    return ws, client


def test_an_idle_socket_reads_through_a_small_buffer():
    ws, client = upgraded()
    old = ws.handler.rfile
    assert frames.shrink_read_buffer(ws)
    rfile = ws.handler.rfile
    # The buffer counts in a buffered file's size.
    assert sys.getsizeof(rfile) + 6000 < sys.getsizeof(old)
    assert ws.environ["wsgi.input"] is rfile and ws.handler.wsgi_input.rfile is rfile
    client.sendall(b"x" * 3000)  # larger than the buffer: read past it
    assert ws.raw_read(3000) == b"x" * 3000
    assert ws.stream.read == rfile.read
    assert ws.handler.socket.gettimeout() is None  # blocking again


def test_what_the_client_sent_before_is_still_read():
    ws, client = upgraded(sent_early=b"hello")
    old = ws.handler.rfile
    assert not frames.shrink_read_buffer(ws)  # not yet
    assert ws.handler.rfile is old
    assert ws.raw_read(5) == b"hello"
    assert frames.shrink_read_buffer(ws)  # read: now
    assert ws.handler.rfile is not old
