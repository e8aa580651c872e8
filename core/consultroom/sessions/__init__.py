"""Server-side sessions (``request.session``, see ``store``), ending a user's
sessions everywhere, the idle-timeout warning's keep-alive, and the security
headers every response carries (``consultroom.web.headers``)."""

from sqlalchemy import delete

from consultroom.accounts.security import SESSION_USER
from consultroom.db import after_commit, utcnow
from consultroom.db.scope import all_organisations
from consultroom.realtime import kick_user
from consultroom.sessions.models import StoredSession
from consultroom.sessions.store import idle_timeout, session_factory


def end_sessions(request, user):
    """End every session of ``user``, this request's too if it is theirs,
    and close their open websockets once that is committed.

    Raising the user's session generation also ends what is not a stored
    session of theirs yet: a login waiting for its second factor, a request
    of theirs that is still running. Call it before ``log_in`` when the user
    stays logged in here."""
    request.dbsession.execute(delete(StoredSession).where(StoredSession.user_id == user.id))
    user.session_generation += 1
    if request.session.get(SESSION_USER) == user.id:
        request.session.invalidate()
    after_commit(request, kick_user, request.registry, user.id)


def prune(dbsession):
    """Delete the rows of ended sessions; run by the worker."""
    # Of every site: the worker's request is the console's, whose scope
    # would keep this to the console's own sessions.
    with all_organisations(dbsession):
        dbsession.execute(delete(StoredSession).where(StoredSession.expires_at <= utcnow()))


def _idle_timeout(request):
    return idle_timeout(request.registry.settings, request.organisation)


def includeme(config):
    config.set_session_factory(session_factory)
    config.add_request_method(_idle_timeout, "idle_timeout", reify=True)
    config.include("consultroom.web.headers")
    config.include(".views")
