"""Server-side sessions (``request.session``, see ``store``), dropping a
user's sessions everywhere when they end (``accounts.security.end_sessions``),
the idle-timeout warning's keep-alive, and the security headers every
response carries (``consultroom.web.headers``)."""

from sqlalchemy import delete

from consultroom.accounts.security import SessionsEnded
from consultroom.db import after_commit, utcnow
from consultroom.db.scope import all_organisations
from consultroom.realtime import kick_user
from consultroom.sessions.models import StoredSession
from consultroom.sessions.store import idle_timeout, session_factory


def _drop_sessions(event):
    """A user's sessions ended (``SessionsEnded``): delete their rows, and
    close their open websockets once that is committed."""
    request, user = event.request, event.user
    request.dbsession.execute(delete(StoredSession).where(StoredSession.user_id == user.id))
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
    config.add_subscriber(_drop_sessions, SessionsEnded)
    config.add_request_method(_idle_timeout, "idle_timeout", reify=True)
    config.include("consultroom.web.headers")
    config.include(".views")
