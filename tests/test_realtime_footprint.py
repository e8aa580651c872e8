"""What an open socket holds between its messages (issue 11, memory per
socket): no database session (consultroom.realtime.dbsession), and an inbox
without gevent's queues (consultroom.realtime.connection.Inbox). The
sockets' behaviour over real websockets is tested in test_realtime_ws and
the others; here, that what is let go of is gone."""

import gc
import types
import weakref

import gevent
import transaction
from sqlalchemy import select

from consultroom.clients.models import Client
from consultroom.db.scope import follow_request, in_scope
from consultroom.realtime.connection import Inbox
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
