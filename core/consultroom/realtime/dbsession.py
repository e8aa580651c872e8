"""A socket's database session, held only while the socket is busy.

A websocket's request lives for hours. Its ``request.dbsession``, made once
and kept, costs every open socket about 20 KiB, most of it the per-session
event listeners that join it to the transaction manager (zope.sqlalchemy).
zope.sqlalchemy closes the session at the end of each transaction anyway, so
nothing loaded stays attached between a socket's messages.

``SessionPerBurst`` makes ``request.dbsession`` when one of the socket's
transactions begins and there is none, kept to the socket's organisation
like the request's own (consultroom.db.scope); ``release()``, called by the
connection when it has nothing more to do, closes it and lets it go. The
messages of a burst share one session; an idle socket holds none.
"""

from contextlib import ExitStack

from consultroom.db import request_session
from consultroom.db.scope import organisation_scope


class SessionPerBurst:
    """A synchronizer of the request's transaction manager (``newTransaction``
    is called at each ``begin``); the connection keeps the only strong
    reference (the manager holds its synchronizers weakly)."""

    def __init__(self, request, organisation_id):
        self.request = request
        self.organisation_id = organisation_id
        self.held = None  # closes the session and ends its scope
        request.tm.registerSynch(self)

    def newTransaction(self, txn):  # noqa: N802 (transaction's ISynchronizer)
        if self.held is not None:
            return
        request = self.request
        self.release()  # the one the request made itself (the hello's), if any
        session = request_session(request.registry["dbmaker"], request.tm)
        self.held = ExitStack()
        self.held.callback(session.close)
        self.held.enter_context(organisation_scope(session, self.organisation_id))
        # Over the reified attribute: what the socket's code reads as usual.
        request.dbsession = session

    def beforeCompletion(self, txn):  # noqa: N802
        pass

    def afterCompletion(self, txn):  # noqa: N802
        pass

    def release(self):
        """Let go of the session (never within a transaction)."""
        session = self.request.__dict__.pop("dbsession", None)
        if self.held is not None:
            self.held, held = None, self.held
            held.close()
        elif session is not None:
            session.close()
