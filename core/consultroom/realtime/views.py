"""GET /ws: the websocket of the waiting and consultation rooms.

The request runs outside pyramid_tm (consultroom.db's activate hook); the
tween below resolves the site, session and user in a short transaction of
its own, and the socket then opens one transaction per message.

The hello's role is looked up at the door (consultroom.realtime.door): the
features register the roles and their authentication.
"""

from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from consultroom.i18n import _
from consultroom.realtime import frames
from consultroom.realtime.connection import Connection, Refused
from consultroom.realtime.door import door


def websocket_tween_factory(handler, registry):
    """For a websocket, load what routing and the tweens under pyramid_tm
    read (the site, the session, the user) in one short transaction: they
    are reified, so later reads do not touch the database."""

    def websocket_tween(request):
        if "wsgi.websocket" in request.environ:
            with request.tm:
                request.site_and_organisation  # noqa: B018
                request.session  # noqa: B018
                request.user  # noqa: B018
        return handler(request)

    return websocket_tween


def same_origin(request):
    """Whether the page that opened the socket is the organisation's own:
    the Origin's host and port equal the Host the socket was opened on."""
    # From the environ: request.headers would cache a headers view on the
    # request, kept for as long as the socket is open.
    origin = request.environ.get("HTTP_ORIGIN", "")
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


def authenticate(connection, hello):
    """The role for the hello message, or Refused."""
    role = hello.get("role")
    found = door(connection.registry).roles.get(role) if isinstance(role, str) else None
    if found is None:
        raise Refused("unauthorized", _("Unknown role or token."))
    return found(connection, hello)


@view_config(route_name="realtime_ws", request_method="GET")
def websocket(request):
    ws = request.environ.get("wsgi.websocket")
    if ws is None:
        raise HTTPBadRequest()
    if not same_origin(request):
        # gevent-websocket has already answered the upgrade: close at once,
        # having read and sent nothing.
        frames.close(ws, 1008)
        return Response()
    Connection(ws, request, request.registry["realtime_limits"]).serve(authenticate)
    return Response()
